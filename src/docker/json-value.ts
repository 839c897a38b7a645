// JSON values as the canonicalizer produces them: plain JSON data (structurally the same type as
// src/policy/contract.ts's JsonValue), so `JSON.stringify` writes them exactly — which is what
// opa-wasm does with its input. One addition: an integer outside JavaScript's safe range
// (|n| > 2^53-1, e.g. a Memory of 2^63-1) is a RawJsonNumber, a frozen object made by
// `JSON.rawJSON` that JSON.stringify writes digit for digit. Code that copies or walks values must
// treat it as a leaf (isRawJsonNumber), not as an object with a `rawJSON` key.

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

export interface JsonObject {
  [key: string]: JsonValue;
}

/** An exact integer kept as its JSON text (`JSON.rawJSON`). At runtime a frozen null-prototype object. */
export interface RawJsonNumber extends JsonObject {
  readonly rawJSON: string;
}

// JSON.rawJSON / JSON.isRawJSON (V8 11.4+, Node ≥ 21) are not in TypeScript's ES2023 lib.
interface JsonWithRaw {
  rawJSON(text: string): RawJsonNumber;
  isRawJSON(value: unknown): boolean;
}
const jsonWithRaw = JSON as unknown as Partial<JsonWithRaw>;
if (typeof jsonWithRaw.rawJSON !== 'function' || typeof jsonWithRaw.isRawJSON !== 'function') {
  throw new Error('dockgate needs JSON.rawJSON (Node.js 22 or newer)');
}
const { rawJSON, isRawJSON } = jsonWithRaw as JsonWithRaw;

/** Wraps the text of a JSON integer literal; the caller guarantees it is one. */
export function rawJsonNumber(text: string): RawJsonNumber {
  return rawJSON(text);
}

export function isRawJsonNumber(value: unknown): value is RawJsonNumber {
  return isRawJSON(value);
}

/** Sets an own property, also for the key `__proto__` (plain assignment would set the prototype). */
export function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
