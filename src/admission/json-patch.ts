// RFC 6902 JSON Patch over RFC 6901 JSON Pointers, applied to a copy: the caller's document is
// never changed, and a patch either applies completely or throws (no half-mutated object can be
// forwarded). Used to apply a policy's mutations to the canonical request body.
import { isDeepStrictEqual } from 'node:util';
import { isRawJsonNumber } from '../docker/json-value.js';
import type { JsonObject, JsonPatchOperation, JsonValue } from '../policy/contract.js';

export class JsonPatchError extends Error {
  override readonly name = 'JsonPatchError';
}

type Container = JsonObject | JsonValue[];

// An exact big integer (JSON.rawJSON, from the canonicalizer) is a number, not an object.
function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isRawJsonNumber(value);
}

/** Splits a JSON Pointer into unescaped reference tokens ("" is the whole document). */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchError(`JSON Pointer ${JSON.stringify(pointer)} must be empty or start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => {
      if (/~(?![01])/.test(token)) throw new JsonPatchError(`JSON Pointer ${JSON.stringify(pointer)} has a "~" not followed by 0 or 1`);
      // ~1 first: "~01" must become "~1", not "/".
      return token.replaceAll('~1', '/').replaceAll('~0', '~');
    });
}

/** Escapes one reference token for use in a JSON Pointer. */
export function escapePointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

function hasMember(obj: JsonObject, key: string): boolean {
  return Object.hasOwn(obj, key);
}

// Plain assignment of "__proto__" would replace the object's prototype instead of adding a key.
function setMember(obj: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/** A deep copy that keeps every key as a plain data property (including "__proto__"). */
export function cloneJson<T extends JsonValue>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => cloneJson(v)) as T;
  if (isObject(value)) {
    const copy: JsonObject = {};
    for (const key of Object.keys(value)) setMember(copy, key, cloneJson(value[key]!));
    return copy as T;
  }
  return value;
}

// RFC 6901 array index: "0" or digits without a leading zero.
function arrayIndex(token: string, length: number, allowEnd: boolean): number {
  if (allowEnd && token === '-') return length;
  if (!/^(?:0|[1-9][0-9]*)$/.test(token)) throw new JsonPatchError(`${JSON.stringify(token)} is not an array index`);
  const index = Number(token);
  if (index > length || (!allowEnd && index === length)) throw new JsonPatchError(`array index ${index} is out of bounds (length ${length})`);
  return index;
}

function child(parent: JsonValue, token: string): JsonValue {
  if (Array.isArray(parent)) return parent[arrayIndex(token, parent.length, false)]!;
  if (isObject(parent) && hasMember(parent, token)) return parent[token]!;
  throw new JsonPatchError(`${JSON.stringify(token)} does not exist`);
}

function resolve(doc: JsonValue, tokens: readonly string[]): JsonValue {
  let node = doc;
  for (const token of tokens) node = child(node, token);
  return node;
}

/** The container holding the last token, and that token. */
function parentOf(doc: JsonValue, tokens: readonly string[]): { parent: Container; key: string } {
  const parent = resolve(doc, tokens.slice(0, -1));
  if (!Array.isArray(parent) && !isObject(parent)) throw new JsonPatchError('the parent is not an object or array');
  return { parent, key: tokens[tokens.length - 1]! };
}

function add(doc: JsonValue, tokens: readonly string[], value: JsonValue): JsonValue {
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length, true), 0, value);
  else setMember(parent, key, value);
  return doc;
}

function remove(doc: JsonValue, tokens: readonly string[]): { doc: JsonValue; removed: JsonValue } {
  if (tokens.length === 0) throw new JsonPatchError('cannot remove the whole document');
  const { parent, key } = parentOf(doc, tokens);
  if (Array.isArray(parent)) {
    const [removed] = parent.splice(arrayIndex(key, parent.length, false), 1);
    return { doc, removed: removed! };
  }
  if (!hasMember(parent, key)) throw new JsonPatchError(`${JSON.stringify(key)} does not exist`);
  const removed = parent[key]!;
  delete parent[key];
  return { doc, removed };
}

function replace(doc: JsonValue, tokens: readonly string[], value: JsonValue): JsonValue {
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens);
  if (Array.isArray(parent)) parent[arrayIndex(key, parent.length, false)] = value;
  else if (hasMember(parent, key)) setMember(parent, key, value);
  else throw new JsonPatchError(`${JSON.stringify(key)} does not exist`);
  return doc;
}

function isProperPrefix(prefix: readonly string[], tokens: readonly string[]): boolean {
  return prefix.length < tokens.length && prefix.every((t, i) => t === tokens[i]);
}

function applyOperation(doc: JsonValue, op: JsonPatchOperation): JsonValue {
  switch (op.op) {
    case 'add':
      return add(doc, parsePointer(op.path), cloneJson(op.value));
    case 'remove':
      return remove(doc, parsePointer(op.path)).doc;
    case 'replace':
      return replace(doc, parsePointer(op.path), cloneJson(op.value));
    case 'move': {
      const from = parsePointer(op.from);
      const to = parsePointer(op.path);
      if (isProperPrefix(from, to)) throw new JsonPatchError('cannot move a value into one of its own children');
      if (from.length === to.length && from.every((t, i) => t === to[i])) {
        resolve(doc, from); // must exist, otherwise a no-op
        return doc;
      }
      const { doc: without, removed } = remove(doc, from);
      return add(without, to, removed);
    }
    case 'copy':
      return add(doc, parsePointer(op.path), cloneJson(resolve(doc, parsePointer(op.from))));
    case 'test':
      if (!isDeepStrictEqual(resolve(doc, parsePointer(op.path)), op.value)) {
        throw new JsonPatchError(`test failed: the value at ${JSON.stringify(op.path)} differs`);
      }
      return doc;
    default:
      throw new JsonPatchError(`unknown operation ${JSON.stringify((op as { op: unknown }).op)}`);
  }
}

function describeOp(op: JsonPatchOperation): string {
  return 'from' in op ? `${op.op} ${op.from} -> ${op.path}` : `${op.op} ${op.path}`;
}

/**
 * Applies `patch` to a deep copy of `document` and returns the result; `document` is left as it
 * was. Throws JsonPatchError naming the failing operation.
 */
export function applyPatch(document: JsonValue, patch: readonly JsonPatchOperation[]): JsonValue {
  let doc = cloneJson(document);
  patch.forEach((op, i) => {
    try {
      doc = applyOperation(doc, op);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new JsonPatchError(`patch[${i}] (${describeOp(op)}): ${reason}`, { cause: err });
    }
  });
  return doc;
}
