import { isRawJsonNumber, type JsonValue } from './json-value.js';

export class JsonWriteError extends Error {
  override readonly name = 'JsonWriteError';
}

/**
 * The JSON text forwarded for a canonical (possibly patched) body: compact, keys in insertion
 * order, big integers digit for digit (RawJsonNumber, which JSON.stringify writes verbatim).
 * Unlike a bare JSON.stringify it refuses what JSON cannot say instead of quietly writing
 * something else (NaN as null, undefined members left out): the daemon must get exactly what was
 * judged.
 */
export function serializeJson(value: JsonValue): string {
  checkWritable(value);
  return JSON.stringify(value);
}

// A walk without allocations; JSON.stringify (native) then does the writing.
function checkWritable(value: JsonValue): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new JsonWriteError(`cannot write the number ${value} as JSON`);
      return;
    case 'object':
      if (value === null) return;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) checkWritable(value[i] as JsonValue);
        return;
      }
      if (isRawJsonNumber(value)) return;
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        throw new JsonWriteError('cannot write an object with a toJSON method');
      }
      for (const key in value) {
        if (Object.hasOwn(value, key)) checkWritable(value[key] as JsonValue);
      }
      return;
    default:
      throw new JsonWriteError(`cannot write a value of type ${typeof value} as JSON`);
  }
}
