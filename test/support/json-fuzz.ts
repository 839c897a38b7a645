import fc from 'fast-check';

// Generators of JSON *texts* (not values) for the differential tests: the same meaning spelled
// the ways Go's encoding/json accepts and a JavaScript reader may not read alike — keys in any
// case, with Unicode folds (ſ for s, K KELVIN SIGN for k), \u escapes, duplicated keys, odd
// number spellings, unknown nested fields. A document is a tree whose leaves are raw JSON text.

export type Doc =
  | { t: 'obj'; entries: [key: string, value: Doc][] }
  | { t: 'arr'; items: Doc[] }
  | { t: 'raw'; text: string };

export const obj = (entries: [string, Doc][]): Doc => ({ t: 'obj', entries });
export const arr = (items: Doc[]): Doc => ({ t: 'arr', items });
export const raw = (text: string): Doc => ({ t: 'raw', text });
/** A JSON string literal of `s`. */
export const str = (s: string): Doc => raw(JSON.stringify(s));

/** Keys are raw JSON string *contents* (escapes already applied), so an escaped key stays escaped. */
export function render(doc: Doc): string {
  switch (doc.t) {
    case 'raw':
      return doc.text;
    case 'arr':
      return `[${doc.items.map(render).join(',')}]`;
    case 'obj':
      return `{${doc.entries.map(([k, v]) => `"${k}":${render(v)}`).join(',')}}`;
  }
}

const escapeChar = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** A JSON string body for `s` with the characters where `mask` is true written as \uXXXX. */
function escapeSome(s: string, mask: boolean[]): string {
  return [...s].map((c, i) => (mask[i % Math.max(mask.length, 1)] ? escapeChar(c) : JSON.stringify(c).slice(1, -1))).join('');
}

/** Spellings of a struct field name that Go's case-insensitive field matching may map to it. */
export function keySpelling(name: string): fc.Arbitrary<string> {
  const n = name.length;
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant(name) },
    fc.constant(name.toLowerCase()),
    fc.constant(name.toUpperCase()),
    fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((up) => [...name].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join('')),
    // Unicode simple folds Go's EqualFold honours: U+017F ſ ~ s, U+212A K ~ k.
    fc.constant(name.replace(/s/gi, '\u017f')),
    fc.constant(name.replace(/k/gi, '\u212a')),
    fc.array(fc.boolean(), { minLength: 1, maxLength: n }).map((mask) => escapeSome(name, mask)),
    fc.array(fc.boolean(), { minLength: 1, maxLength: n }).map((mask) => escapeSome(name.replace(/s/i, '\u017f'), mask)),
  );
}

/** A string value spelled plainly or with escapes (\u, \/). */
export function stringSpelling(s: string): fc.Arbitrary<Doc> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(str(s)) },
    fc.array(fc.boolean(), { minLength: 1, maxLength: Math.max(s.length, 1) }).map((mask) => raw(`"${escapeSome(s, mask)}"`)),
    fc.constant(raw(`"${s.replace(/\//g, '\\/')}"`)),
  );
}

/** Spellings of an integer: exact, fraction, exponent, signs, leading zeros (invalid JSON). */
export function integerSpelling(n: number): fc.Arbitrary<Doc> {
  return fc.constantFrom(
    raw(String(n)),
    raw(`${n}.0`),
    raw(`${n}e0`),
    raw(`${n}E+0`),
    raw(`${n * 10}e-1`),
    raw(n === 0 ? '-0' : `-${n}`),
    raw(`0${n}`),
    raw(`${n}.5`),
    raw('9223372036854775807'),
    raw('9223372036854775808'),
    raw('1e400'),
    raw(`"${n}"`),
  );
}

export const boolSpelling = (b: boolean): fc.Arbitrary<Doc> => fc.constantFrom(raw(String(b)), raw(String(!b)), raw(`"${b}"`), raw('null'), raw(b ? '1' : '0'));

/** Arbitrary JSON for unknown fields (dockerd ignores them; dockgate may keep or refuse them). */
export const junkValue: fc.Arbitrary<Doc> = fc.letrec<{ v: Doc }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(raw('null'), raw('true'), raw('1.5e3'), raw('-0'), raw('""'), raw('"\\u0000"'), raw('"\\ud800"')),
    fc.string({ maxLength: 8 }).map(str),
    fc.array(tie('v'), { maxLength: 3 }).map(arr),
    fc.array(fc.tuple(fc.string({ maxLength: 6 }).map((k) => JSON.stringify(k).slice(1, -1)), tie('v')), { maxLength: 3 }).map(obj),
  ),
})).v;

/** A known field: its canonical name and the values (already spelled) it may take. */
export interface FieldSpec {
  name: string;
  value: fc.Arbitrary<Doc>;
}

/**
 * An object with a subset of `fields`, each under some spelling of its name, sometimes given
 * twice (a second spelling with another value), plus unknown fields, in any order.
 */
export function objectOf(fields: FieldSpec[], required: FieldSpec[] = []): fc.Arbitrary<Doc> {
  const entry = (f: FieldSpec) => fc.tuple(keySpelling(f.name), f.value);
  const known = fc.subarray(fields).chain((chosen) => fc.tuple(...[...required, ...chosen].map(entry)));
  const all = [...required, ...fields];
  const dupes = fc.subarray(all, { maxLength: Math.min(2, all.length) }).chain((chosen) => fc.tuple(...chosen.map(entry)));
  const unknown = fc.array(fc.tuple(fc.constantFrom('Xyzzy', 'hostconfig2', 'Comment', '', '__proto__'), junkValue), { maxLength: 2 });
  return fc
    .tuple(known, fc.oneof({ weight: 4, arbitrary: fc.constant([]) }, dupes), fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, unknown), fc.boolean())
    .map(([k, d, u, shuffle]) => {
      const entries: [string, Doc][] = [...k, ...d, ...u];
      return obj(shuffle ? entries.reverse() : entries);
    });
}

export const stringArray = (values: string[]): fc.Arbitrary<Doc> =>
  fc.subarray(values, { minLength: 1 }).chain((vs) => fc.tuple(...vs.map(stringSpelling))).map(arr);

/** A string-to-string map (Labels, DriverOpts): map keys are data in Go, not folded. */
export const stringMap = (keys: string[]): fc.Arbitrary<Doc> =>
  fc
    .subarray(keys)
    .chain((ks) => fc.tuple(...ks.map((k) => fc.tuple(fc.oneof(fc.constant(k), fc.constant(k.toUpperCase()), fc.constant(k.replace(/s/g, '\u017f'))), stringSpelling(`v-${k}`)))))
    .map(obj);
