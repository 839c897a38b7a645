// Decodes an inspected request body the way dockerd does (Go's encoding/json onto the Engine API
// structs) into a canonical object: struct keys matched case-insensitively with Go's folding and
// written with their canonical names, unknown struct fields dropped, map keys kept exactly,
// StrSlice fields as arrays, exact integers. Where Go would quietly pick one reading and a filter
// could pick another — duplicate keys, trailing data, invalid UTF-8 — the body is refused instead.
// What the policy judges and what is forwarded (serializeJson) is this object, never the bytes.
import type { InspectedBodyKind } from './body-kinds.js';
import { checkJsonContentType } from './json-content-type.js';
import { decodeJsonText, JsonReader, JsonSyntaxError, type JsonToken, quoteForMessage } from './json-reader.js';
import { type JsonObject, type JsonValue, rawJsonNumber, setOwn } from './json-value.js';
import { BODY_SCHEMAS } from './schema.js';
import type { SchemaNode, StructSchema } from './schema-types.js';

export { serializeJson } from './json-writer.js';
export type { JsonObject, JsonValue, RawJsonNumber } from './json-value.js';
export { isRawJsonNumber } from './json-value.js';

export type CanonicalResult =
  | { ok: true; value: JsonValue }
  | { ok: false; status: 400 | 415; message: string };

/** The deepest nesting of objects and arrays accepted (real bodies stay under 10). */
export const MAX_BODY_DEPTH = 256;

/**
 * Canonicalizes the body of a route carrying `kind`. An empty body (allowed without a
 * Content-Type, like dockerd) and a bare `null` give the zero value: `{}`, or `[]` for the
 * plugin kinds. Never throws for bad input; a thrown error is a bug and must deny.
 */
export function canonicalizeBody(
  kind: InspectedBodyKind,
  body: Buffer,
  contentType: string | undefined,
): CanonicalResult {
  const refusal = checkJsonContentType(contentType, body.length);
  if (refusal) return { ok: false, ...refusal };
  const root = ROOTS[kind];
  if (body.length === 0) return { ok: true, value: zeroValue(root) };
  try {
    const reader = new JsonReader(decodeJsonText(body), MAX_BODY_DEPTH);
    let value: JsonValue;
    if (reader.peek() === 'null') {
      reader.readNull();
      value = zeroValue(root); // Go leaves the target at its zero value
    } else {
      value = new Decoder(reader).decode(root);
    }
    reader.end();
    return { ok: true, value };
  } catch (err) {
    if (err instanceof BodyTypeError) return { ok: false, status: 400, message: `invalid JSON body: ${err.describe()}` };
    if (err instanceof JsonSyntaxError) return { ok: false, status: 400, message: `invalid JSON body: ${err.message}` };
    throw err;
  }
}

// --- the schema, compiled for lookups ---------------------------------------------------------

interface Field {
  readonly name: string;
  readonly node: Compiled;
  /** The decodeStruct call that last set this field: duplicate detection without a lookup. */
  seen: number;
}
interface CompiledStruct {
  readonly t: 'struct';
  /** Canonical name ⇒ field: the common case, no folding needed. */
  readonly exact: Map<string, Field>;
  /** Go-folded (upper-case) name ⇒ field. */
  readonly folded: Map<string, Field>;
}
type Compiled =
  | { readonly t: 'string' | 'integer' | 'number' | 'boolean' | 'any' | 'strslice' }
  | { readonly t: 'array'; readonly items: Compiled }
  | { readonly t: 'map'; readonly value: Compiled }
  | CompiledStruct;

function compile(node: SchemaNode, memo: Map<SchemaNode, Compiled>): Compiled {
  const done = memo.get(node);
  if (done) return done;
  switch (node.t) {
    case 'array': {
      const c = { t: 'array' as const, items: compile(node.items, memo) };
      memo.set(node, c);
      return c;
    }
    case 'map': {
      const c = { t: 'map' as const, value: compile(node.value, memo) };
      memo.set(node, c);
      return c;
    }
    case 'struct':
      return compileStruct(node, memo);
    default:
      return node;
  }
}

const compiling = new Set<StructSchema>();

function compileStruct(node: StructSchema, memo: Map<SchemaNode, Compiled>): CompiledStruct {
  // Duplicate detection (Field.seen) relies on no struct containing itself.
  if (compiling.has(node)) throw new Error('body schema: recursive struct');
  compiling.add(node);
  const c: CompiledStruct = { t: 'struct', exact: new Map(), folded: new Map() };
  for (const [name, sub] of Object.entries(node.fields)) {
    const folded = goFoldKey(name);
    if (folded === undefined || c.folded.has(folded)) {
      throw new Error(`body schema: field ${name} cannot be matched unambiguously`);
    }
    const field: Field = { name, node: compile(sub, memo), seen: 0 };
    c.exact.set(name, field);
    c.folded.set(folded, field);
  }
  compiling.delete(node);
  memo.set(node, c);
  return c;
}

const ROOTS: Readonly<Record<InspectedBodyKind, Compiled>> = (() => {
  const memo = new Map<SchemaNode, Compiled>();
  const roots = {} as Record<InspectedBodyKind, Compiled>;
  for (const [kind, node] of Object.entries(BODY_SCHEMAS) as [InspectedBodyKind, SchemaNode][]) {
    roots[kind] = compile(node, memo);
  }
  return roots;
})();

function zeroValue(root: Compiled): JsonValue {
  return root.t === 'array' ? [] : {};
}

/**
 * Go's key folding for struct fields (encoding/json foldName): ASCII letters fold case-
 * insensitively, `ſ` (U+017F) folds to S and `K` (U+212A, Kelvin) to K; no other non-ASCII
 * character folds to ASCII, so a key with one matches no (ASCII) field: undefined.
 */
export function goFoldKey(key: string): string | undefined {
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) >= 0x80) return foldNonAscii(key);
  }
  return key.toUpperCase();
}

function foldNonAscii(key: string): string | undefined {
  let out = '';
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x80) out += key[i];
    else if (c === 0x017f) out += 'S';
    else if (c === 0x212a) out += 'K';
    else return undefined;
  }
  return out.toUpperCase();
}

// --- decoding ---------------------------------------------------------------------------------

// A value that does not fit its field (or a duplicate key). `path` is filled in while the error
// unwinds: cheaper than tracking where we are on every field.
class BodyTypeError extends Error {
  override readonly name = 'BodyTypeError';
  readonly path: PathPart[] = [];

  /** The message with the field path, e.g. `HostConfig.Memory: 1.5 is not an integer`. */
  describe(): string {
    return this.path.length === 0 ? this.message : `${pathText(this.path)}: ${this.message}`;
  }
}

const MIN_INT64 = -(2n ** 63n);
const MAX_UINT64 = 2n ** 64n - 1n;

const TOKEN_NAMES: Record<JsonToken, string> = {
  object: 'an object',
  array: 'an array',
  string: 'a string',
  number: 'a number',
  true: 'a boolean',
  false: 'a boolean',
  null: 'null',
};

// Each decodeStruct call takes a new number; a field whose `seen` equals it was already set.
// (The schema has no recursive structs, so an inner call never reuses an outer call's fields.)
let structCalls = 0;

class Decoder {
  private readonly r: JsonReader;

  constructor(reader: JsonReader) {
    this.r = reader;
  }

  decode(node: Compiled): JsonValue {
    const r = this.r;
    const token = r.peek();
    // Go: null leaves any field unset — kept as null, distinct from an empty value.
    if (token === 'null') return r.readNull();
    switch (node.t) {
      case 'struct':
        if (token !== 'object') throw mismatch(token, 'an object');
        return this.decodeStruct(node);
      case 'map':
        if (token !== 'object') throw mismatch(token, 'an object');
        return this.decodeMap(node.value);
      case 'array':
        if (token !== 'array') throw mismatch(token, 'an array');
        return this.decodeArray(node.items);
      case 'strslice':
        // strslice.StrSlice: an array of strings, or one string (dockerd ≤ 28) — always an array here.
        if (token === 'string') return [r.readString()];
        if (token !== 'array') throw mismatch(token, 'a string or an array of strings');
        return this.decodeArray(STRING);
      case 'string':
        if (token !== 'string') throw mismatch(token, 'a string');
        return r.readString();
      case 'boolean':
        if (token !== 'true' && token !== 'false') throw mismatch(token, 'a boolean');
        return r.readBoolean();
      case 'integer':
        if (token !== 'number') throw mismatch(token, 'an integer');
        return this.readInteger();
      case 'number':
        if (token !== 'number') throw mismatch(token, 'a number');
        return this.readFloat();
      case 'any':
        return this.readAny();
    }
  }

  private decodeStruct(node: CompiledStruct): JsonObject {
    const r = this.r;
    const call = ++structCalls;
    const out: JsonObject = {};
    r.beginObject();
    for (let key = r.nextKey(); key !== undefined; key = r.nextKey()) {
      let field = node.exact.get(key);
      if (field === undefined) {
        const folded = goFoldKey(key);
        if (folded !== undefined) field = node.folded.get(folded);
      }
      if (field === undefined) {
        r.skipValue(); // Go ignores unknown fields; so does what we forward
        continue;
      }
      try {
        if (field.seen === call) throw new BodyTypeError(`duplicate key ${quoteForMessage(key)}`);
        field.seen = call;
        out[field.name] = this.decode(field.node);
      } catch (err) {
        if (err instanceof BodyTypeError) err.path.unshift(field.name);
        throw err;
      }
    }
    return out;
  }

  private decodeMap(value: Compiled): JsonObject {
    const r = this.r;
    const out: JsonObject = {};
    r.beginObject();
    for (let key = r.nextKey(); key !== undefined; key = r.nextKey()) {
      try {
        if (Object.hasOwn(out, key)) throw new BodyTypeError(`duplicate key ${quoteForMessage(key)}`);
        setOwn(out, key, this.decode(value));
      } catch (err) {
        if (err instanceof BodyTypeError) err.path.unshift({ key });
        throw err;
      }
    }
    return out;
  }

  private decodeArray(items: Compiled): JsonValue[] {
    const r = this.r;
    const out: JsonValue[] = [];
    r.beginArray();
    while (r.nextElement()) {
      try {
        out.push(this.decode(items));
      } catch (err) {
        if (err instanceof BodyTypeError) err.path.unshift(out.length);
        throw err;
      }
    }
    return out;
  }

  // Go's int/uint fields take only integer literals (strconv.ParseInt: `1.0` and `1e3` are
  // errors) that fit the field; int64 and uint64 bound them all.
  private readInteger(): JsonValue {
    const text = this.r.readNumberText();
    if (!this.r.numberIsInteger) throw new BodyTypeError(`${abbreviate(text)} is not an integer`);
    const n = Number(text);
    if (Number.isSafeInteger(n)) return n + 0; // -0 is 0 to Go's ParseInt
    const big = BigInt(text);
    if (big < MIN_INT64 || big > MAX_UINT64) {
      throw new BodyTypeError(`${abbreviate(text)} is out of range for an integer`);
    }
    return rawJsonNumber(big.toString());
  }

  // float64 fields: strconv.ParseFloat fails beyond the double range (1e400).
  private readFloat(): number {
    const text = this.r.readNumberText();
    const n = Number(text);
    if (!Number.isFinite(n)) throw new BodyTypeError(`${abbreviate(text)} is out of range`);
    return n + 0; // -0 as 0: JSON.stringify (the policy input, the forwarded body) writes it so anyway
  }

  // A free-form value; the reader's value errors (a duplicate key, a number out of range) get
  // the path.
  private readAny(): JsonValue {
    try {
      return this.r.readAny();
    } catch (err) {
      if (err instanceof JsonSyntaxError) throw new BodyTypeError(err.message);
      throw err;
    }
  }
}

function mismatch(token: JsonToken, expected: string): BodyTypeError {
  return new BodyTypeError(`expected ${expected}, got ${TOKEN_NAMES[token]}`);
}

// HostConfig.PortBindings["80/tcp"][0].HostPort
function pathText(path: readonly PathPart[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string') out += out === '' ? part : `.${part}`;
    else out += `[${quoteForMessage(part.key)}]`;
  }
  return out;
}

const STRING: Compiled = { t: 'string' };

/** A struct field name, an array index, or a map key. */
type PathPart = string | number | { key: string };

function abbreviate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
