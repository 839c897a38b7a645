import { describe, expect, it } from 'vitest';
import { JsonPatchError, applyPatch, cloneJson, escapePointerToken, parsePointer } from '../../src/admission/json-patch.js';
import type { JsonPatchOperation, JsonValue } from '../../src/policy/contract.js';

function apply(doc: JsonValue, ...patch: JsonPatchOperation[]): JsonValue {
  return applyPatch(doc, patch);
}

describe('JSON Pointer', () => {
  it('parses tokens and unescapes ~1 before ~0', () => {
    expect(parsePointer('')).toEqual([]);
    expect(parsePointer('/')).toEqual(['']);
    expect(parsePointer('/a/b')).toEqual(['a', 'b']);
    expect(parsePointer('/a~1b/m~0n')).toEqual(['a/b', 'm~n']);
    expect(parsePointer('/~01')).toEqual(['~1']);
  });

  it('refuses malformed pointers', () => {
    expect(() => parsePointer('a/b')).toThrow(JsonPatchError);
    expect(() => parsePointer('/a~2')).toThrow(/~/);
    expect(() => parsePointer('/a~')).toThrow(/~/);
  });

  it('escapes tokens so they parse back', () => {
    for (const token of ['a/b', 'm~n', '~1', 'com.example/label~x']) {
      expect(parsePointer(`/${escapePointerToken(token)}`)).toEqual([token]);
    }
  });
});

describe('applyPatch (RFC 6902)', () => {
  it('adds object members, replacing an existing one', () => {
    expect(apply({ a: 1 }, { op: 'add', path: '/b', value: 2 })).toEqual({ a: 1, b: 2 });
    expect(apply({ a: 1 }, { op: 'add', path: '/a', value: [1] })).toEqual({ a: [1] });
  });

  it('inserts into arrays by index and appends with "-"', () => {
    expect(apply({ a: [1, 3] }, { op: 'add', path: '/a/1', value: 2 })).toEqual({ a: [1, 2, 3] });
    expect(apply({ a: [1] }, { op: 'add', path: '/a/-', value: 2 })).toEqual({ a: [1, 2] });
    expect(apply({ a: [1] }, { op: 'add', path: '/a/1', value: 2 })).toEqual({ a: [1, 2] });
  });

  it('adds a key that needs escaping', () => {
    expect(apply({ Labels: {} }, { op: 'add', path: '/Labels/com.example~1team~0x', value: 'web' })).toEqual({
      Labels: { 'com.example/team~x': 'web' },
    });
  });

  it('replaces the whole document with path ""', () => {
    expect(apply({ a: 1 }, { op: 'add', path: '', value: [1] })).toEqual([1]);
    expect(apply({ a: 1 }, { op: 'replace', path: '', value: { b: 2 } })).toEqual({ b: 2 });
  });

  it('removes members and array elements', () => {
    expect(apply({ a: 1, b: 2 }, { op: 'remove', path: '/a' })).toEqual({ b: 2 });
    expect(apply({ a: [1, 2, 3] }, { op: 'remove', path: '/a/1' })).toEqual({ a: [1, 3] });
  });

  it('replaces existing values only', () => {
    expect(apply({ HostConfig: { ReadonlyRootfs: false } }, { op: 'replace', path: '/HostConfig/ReadonlyRootfs', value: true })).toEqual({
      HostConfig: { ReadonlyRootfs: true },
    });
    expect(apply({ a: [1, 2] }, { op: 'replace', path: '/a/0', value: 9 })).toEqual({ a: [9, 2] });
    expect(() => apply({ a: 1 }, { op: 'replace', path: '/b', value: 2 })).toThrow(JsonPatchError);
  });

  it('moves and copies values (copies are independent)', () => {
    expect(apply({ a: { x: 1 }, b: {} }, { op: 'move', from: '/a/x', path: '/b/y' })).toEqual({ a: {}, b: { y: 1 } });
    expect(apply({ a: [1, 2, 3] }, { op: 'move', from: '/a/0', path: '/a/-' })).toEqual({ a: [2, 3, 1] });
    expect(apply({ a: 1 }, { op: 'move', from: '/a', path: '/a' })).toEqual({ a: 1 });
    const copied = apply({ a: { x: [1] } }, { op: 'copy', from: '/a', path: '/b' }, { op: 'add', path: '/b/x/-', value: 2 });
    expect(copied).toEqual({ a: { x: [1] }, b: { x: [1, 2] } });
  });

  it('refuses to move a value into its own child', () => {
    expect(() => apply({ a: { b: {} } }, { op: 'move', from: '/a', path: '/a/b/c' })).toThrow(/own children/);
  });

  it('tests values with JSON equality and fails the whole patch on a mismatch', () => {
    const doc = { a: { x: 1, y: [1, { z: null }] } };
    expect(apply(doc, { op: 'test', path: '/a', value: { y: [1, { z: null }], x: 1 } })).toEqual(doc);
    expect(() => apply(doc, { op: 'test', path: '/a/y', value: [{ z: null }, 1] })).toThrow(/test failed/);
    expect(() => apply(doc, { op: 'test', path: '/a/x', value: '1' })).toThrow(/test failed/);
  });

  it('throws on missing targets and bad array indexes', () => {
    const doc = { a: [1, 2], o: {} };
    const bad: JsonPatchOperation[] = [
      { op: 'remove', path: '/missing' },
      { op: 'add', path: '/missing/x', value: 1 },
      { op: 'add', path: '/a/3', value: 1 },
      { op: 'add', path: '/a/01', value: 1 },
      { op: 'add', path: '/a/-1', value: 1 },
      { op: 'remove', path: '/a/2' },
      { op: 'remove', path: '/a/-' },
      { op: 'replace', path: '/a/-', value: 1 },
      { op: 'add', path: '/a/-/x', value: 1 },
      { op: 'remove', path: '' },
      { op: 'copy', from: '/nope', path: '/x' },
      { op: 'move', from: '/nope', path: '/x' },
      { op: 'add', path: '/a/0/x', value: 1 },
      { op: 'add', path: 'a', value: 1 },
    ];
    for (const op of bad) expect(() => apply(doc, op), JSON.stringify(op)).toThrow(JsonPatchError);
  });

  it('names the failing operation', () => {
    expect(() => apply({}, { op: 'add', path: '/a', value: 1 }, { op: 'remove', path: '/b' })).toThrow(/^patch\[1\] \(remove \/b\): /);
  });

  it('leaves the input untouched, also when a later operation fails', () => {
    const doc = { a: { b: [1] }, c: 1 };
    const before = structuredClone(doc);
    const out = apply(doc, { op: 'add', path: '/a/b/-', value: 2 }, { op: 'remove', path: '/c' });
    expect(doc).toEqual(before);
    expect(out).toEqual({ a: { b: [1, 2] } });
    expect(() => apply(doc, { op: 'add', path: '/a/b/-', value: 3 }, { op: 'remove', path: '/zzz' })).toThrow();
    expect(doc).toEqual(before);
  });

  it('does not share values from the patch with the result', () => {
    const value = { x: [1] };
    const out = apply({}, { op: 'add', path: '/v', value }) as { v: { x: number[] } };
    value.x.push(2);
    expect(out.v.x).toEqual([1]);
  });

  it('treats "__proto__" as an ordinary key', () => {
    const out = apply({}, { op: 'add', path: '/__proto__', value: { polluted: true } }) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const parsed = JSON.parse('{"__proto__": {"a": 1}}') as JsonValue;
    const cloned = cloneJson(parsed) as Record<string, unknown>;
    expect(Object.hasOwn(cloned, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(cloned)).toBe(Object.prototype);
    expect(() => apply({}, { op: 'remove', path: '/__proto__' })).toThrow(JsonPatchError);
    expect(() => apply({}, { op: 'remove', path: '/toString' })).toThrow(JsonPatchError);
  });

  it('applies an empty patch as a copy', () => {
    const doc = { a: 1 };
    const out = applyPatch(doc, []);
    expect(out).toEqual(doc);
    expect(out).not.toBe(doc);
  });
});
