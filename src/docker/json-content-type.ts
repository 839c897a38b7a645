// dockerd's CheckForJSON: a JSON body needs `Content-Type: application/json` (media type compared
// case-insensitively, parameters allowed, parsed like Go's mime.ParseMediaType); only an empty body
// may come without a Content-Type. Form types never pass: on query-driven routes Go's form parsing
// would let their body parameters override the query the policy judged.

export interface ContentTypeRefusal {
  status: 400 | 415;
  message: string;
}

const JSON_MEDIA_TYPE = 'application/json';

/** undefined when the body may be decoded as JSON; otherwise why not. */
export function checkJsonContentType(
  header: string | undefined,
  bodyLength: number,
): ContentTypeRefusal | undefined {
  // Go's Header.Get gives "" for a missing and for an empty header alike.
  if (header === undefined || trimSpace(header) === '') {
    if (bodyLength === 0) return undefined;
    return { status: 415, message: 'a request body needs Content-Type: application/json' };
  }
  const mediaType = parseMediaType(header);
  if (mediaType === undefined) {
    return { status: 400, message: `malformed Content-Type header ${JSON.stringify(header.slice(0, 100))}` };
  }
  if (mediaType !== JSON_MEDIA_TYPE) {
    return {
      status: 415,
      message: `unsupported Content-Type ${JSON.stringify(mediaType.slice(0, 100))}: must be application/json`,
    };
  }
  return undefined;
}

/**
 * The lower-cased media type of a Content-Type value, or undefined where Go's
 * mime.ParseMediaType returns an error. Restricted to printable ASCII (and tab): Go lower-cases
 * with Unicode rules (`İ` becomes `i`), so a non-ASCII header could mean something else to it.
 */
export function parseMediaType(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c > 0x7e) return undefined;
  }
  const semi = value.indexOf(';');
  const base = semi === -1 ? value : value.slice(0, semi);
  const mediaType = trimSpace(base.toLowerCase());
  if (!isMediaTypeDisposition(mediaType)) return undefined;
  return parametersAreValid(value.slice(base.length)) ? mediaType : undefined;
}

// checkMediaTypeDisposition: token [ "/" token ].
function isMediaTypeDisposition(s: string): boolean {
  const typeEnd = tokenEnd(s, 0);
  if (typeEnd === 0) return false;
  if (typeEnd === s.length) return true;
  if (s.charCodeAt(typeEnd) !== 0x2f) return false;
  const subtypeEnd = tokenEnd(s, typeEnd + 1);
  return subtypeEnd > typeEnd + 1 && subtypeEnd === s.length;
}

// The parameter loop of ParseMediaType: `; key=value` pairs, a trailing `;` allowed, a repeated
// key only with the same value.
function parametersAreValid(v: string): boolean {
  const seen = new Map<string, string>();
  while (v.length > 0) {
    v = trimLeftSpace(v);
    if (v.length === 0) break;
    const param = consumeMediaParam(v);
    if (param === undefined) return trimSpace(v) === ';';
    const before = seen.get(param.key);
    if (before !== undefined && before !== param.value) return false;
    seen.set(param.key, param.value);
    v = param.rest;
  }
  return true;
}

function consumeMediaParam(v: string): { key: string; value: string; rest: string } | undefined {
  let rest = trimLeftSpace(v);
  if (!rest.startsWith(';')) return undefined;
  rest = trimLeftSpace(rest.slice(1));
  const keyEnd = tokenEnd(rest, 0);
  if (keyEnd === 0) return undefined;
  const key = rest.slice(0, keyEnd).toLowerCase();
  rest = trimLeftSpace(rest.slice(keyEnd));
  if (!rest.startsWith('=')) return undefined;
  rest = trimLeftSpace(rest.slice(1));
  const value = consumeValue(rest);
  if (value === undefined) return undefined;
  return { key, value: value.value, rest: value.rest };
}

function consumeValue(v: string): { value: string; rest: string } | undefined {
  if (v.charCodeAt(0) !== 0x22) {
    const end = tokenEnd(v, 0);
    return end === 0 ? undefined : { value: v.slice(0, end), rest: v.slice(end) };
  }
  let value = '';
  for (let i = 1; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x22) return { value, rest: v.slice(i + 1) };
    if (c === 0x5c && i + 1 < v.length && isTSpecial(v.charCodeAt(i + 1))) {
      value += v[i + 1];
      i++;
      continue;
    }
    if (c === 0x0d || c === 0x0a) return undefined;
    value += v[i];
  }
  return undefined; // no closing quote
}

function tokenEnd(s: string, from: number): number {
  let i = from;
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return i;
}

const TSPECIALS = '()<>@,;:\\"/[]?=';

function isTSpecial(c: number): boolean {
  return TSPECIALS.includes(String.fromCharCode(c));
}

function isTokenChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && !isTSpecial(c);
}

// Go's unicode.IsSpace on ASCII.
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function trimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return s.slice(i);
}

function trimSpace(s: string): string {
  let end = s.length;
  while (end > 0 && isSpace(s.charCodeAt(end - 1))) end--;
  return trimLeftSpace(s.slice(0, end));
}
