import { percentDecode } from './percent-decode.js';

// Query strings parsed the way dockerd (Go 1.17+ net/url.ParseQuery, via r.ParseForm) sees them.
//
// Go splits on `&` only. A pair containing a raw `;` makes ParseQuery return an error and drop
// the pair (Go 1.17 removed `;` as a separator; dockerd 20.10 is built with go1.19): handlers
// that call httputils.ParseForm answer 400, handlers that read r.URL.Query() silently drop it.
// Either way dockerd and a `;`-splitting parser would disagree, so a raw `;` is refused here.
// A malformed escape is refused for the same reason (Go drops the pair / answers 400).
// Keys and values decode with `+` as space. Empty pairs (`a=1&&b=2`) are skipped; `a` alone is
// the key `a` with value ''. Repeated keys keep every value in order: dockerd reads the first.

// Own properties only: nothing is inherited, so a key like `__proto__`, `constructor` or
// `toString` is just a key (and a missing key reads as undefined).
export type Query = Record<string, string[]>;

export type QueryParseResult =
  | { readonly ok: true; readonly query: Query }
  | { readonly ok: false; readonly message: string };

// The prototype of every Query: empty, frozen, itself without a prototype. (Not
// Object.create(null) for the query itself: V8 makes those dictionary-mode objects, several
// times slower to fill on this hot path.)
const QUERY_PROTOTYPE: object = Object.freeze(Object.create(null) as object);

export function emptyQuery(): Query {
  return Object.create(QUERY_PROTOTYPE) as Query;
}

// `rawQuery` is the part after the first `?`, already checked to be printable ASCII.
export function parseQuery(rawQuery: string): QueryParseResult {
  const query = emptyQuery();
  if (rawQuery === '') return { ok: true, query };
  if (rawQuery.includes(';')) {
    return {
      ok: false,
      message:
        'query string contains ";", which the Docker daemon does not accept as a separator: ' +
        'use "&" between parameters and encode ";" in values as %3B',
    };
  }
  let start = 0;
  while (start <= rawQuery.length) {
    let end = rawQuery.indexOf('&', start);
    if (end < 0) end = rawQuery.length;
    if (end > start) {
      const eq = rawQuery.indexOf('=', start);
      const hasValue = eq >= 0 && eq < end;
      const key = percentDecode(rawQuery.slice(start, hasValue ? eq : end), true);
      const value = hasValue ? percentDecode(rawQuery.slice(eq + 1, end), true) : '';
      if (key === null || value === null) {
        return {
          ok: false,
          message: `invalid percent-encoding in query parameter "${rawQuery.slice(start, end)}"`,
        };
      }
      const values = query[key];
      if (values === undefined) query[key] = [value];
      else values.push(value);
    }
    start = end + 1;
  }
  return { ok: true, query };
}

// What dockerd's r.FormValue(name) returns: the first value, '' when absent. `undefined` here
// tells absent apart from empty.
export function firstValue(query: Query, name: string): string | undefined {
  return Object.hasOwn(query, name) ? query[name]![0] : undefined;
}

// Go's unicode.IsSpace set (strings.TrimSpace). Differs from JS trim(): U+0085 is a space in
// Go, U+FEFF is not.
function isGoSpace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x20 ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

function goTrimSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isGoSpace(s.charCodeAt(start))) start++;
  while (end > start && isGoSpace(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

const FALSE_WORDS = new Set(['', '0', 'no', 'false', 'none']);

// Docker's httputils.BoolValue: the first value, trimmed and lower-cased; "", "0", "no",
// "false" and "none" are false, anything else is true; an absent parameter is false.
export function queryBool(query: Query, name: string): boolean {
  const value = firstValue(query, name);
  if (value === undefined) return false;
  return !FALSE_WORDS.has(goTrimSpace(value).toLowerCase());
}
