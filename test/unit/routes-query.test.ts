import { describe, expect, it } from 'vitest';
import { firstValue, parseQuery, queryBool, type Query } from '../../src/http/routes.js';

function parsed(raw: string): Query {
  const result = parseQuery(raw);
  if (!result.ok) throw new Error(result.message);
  return result.query;
}

describe('parseQuery (Go net/url.ParseQuery semantics)', () => {
  it.each([
    ['', {}],
    ['a=1', { a: ['1'] }],
    ['a=1&a=2&b=3', { a: ['1', '2'], b: ['3'] }],
    ['a', { a: [''] }],
    ['a=', { a: [''] }],
    ['=x', { '': ['x'] }],
    ['a=1&&b=2&', { a: ['1'], b: ['2'] }],
    ['&', {}],
    ['a=b=c', { a: ['b=c'] }],
    ['a=x+y&b=x%20y&c=x%2By', { a: ['x y'], b: ['x y'], c: ['x+y'] }],
    ['k%65y=v%C3%A9', { key: ['vé'] }],
    ['a=%3B', { a: [';'] }],
    ['a=1?b=2', { a: ['1?b=2'] }],
    ['a=%2e%2e%2F', { a: ['../'] }],
  ])('%j', (raw, expected) => {
    expect({ ...parsed(raw) }).toEqual(expected);
  });

  it.each([
    'a=1;b=2', // Go >= 1.17: ";" is not a separator, ParseQuery errors
    'a;=1',
    ';',
    'a=%',
    'a=%4',
    'a=%GG',
    '%zz=1',
    'a=%FF', // not UTF-8
  ])('refuses %j', (raw) => {
    const result = parseQuery(raw);
    expect(result.ok).toBe(false);
  });

  it('treats prototype names as plain keys', () => {
    const q = parsed('__proto__=x&constructor=y&toString=z');
    // Nothing inherited: no Object.prototype members, and the shared prototype is frozen.
    expect('hasOwnProperty' in q || 'valueOf' in q || 'isPrototypeOf' in q).toBe(false);
    expect(Object.isFrozen(Object.getPrototypeOf(q))).toBe(true);
    expect(Object.getPrototypeOf(Object.getPrototypeOf(q))).toBeNull();
    expect(q['__proto__']).toEqual(['x']);
    expect(firstValue(q, 'constructor')).toBe('y');
    expect(firstValue(q, 'hasOwnProperty')).toBeUndefined();
    expect(Object.keys(q).sort()).toEqual(['__proto__', 'constructor', 'toString']);
  });
});

describe('firstValue', () => {
  it('returns the first of repeated values, as dockerd does', () => {
    const q = parsed('name=a&name=b');
    expect(firstValue(q, 'name')).toBe('a');
  });

  it('tells absent from empty', () => {
    const q = parsed('a=');
    expect(firstValue(q, 'a')).toBe('');
    expect(firstValue(q, 'b')).toBeUndefined();
  });
});

describe('queryBool (Docker httputils.BoolValue)', () => {
  it.each([
    ['', false],
    ['0', false],
    ['no', false],
    ['false', false],
    ['none', false],
    ['FALSE', false],
    ['No', false],
    ['%20false%09', false], // trimmed
    ['%C2%85none%C2%A0', false], // Go's TrimSpace trims U+0085 and U+00A0
    ['1', true],
    ['true', true],
    ['yes', true],
    ['off', true], // not in Docker's false list
    ['00', true],
    ['f', true],
    ['%EF%BB%BFfalse', true], // U+FEFF is not a space to Go
  ])('all=%s is %s', (raw, expected) => {
    expect(queryBool(parsed(`all=${raw}`), 'all')).toBe(expected);
  });

  it('is false when absent, and uses the first value', () => {
    expect(queryBool(parsed('other=1'), 'all')).toBe(false);
    expect(queryBool(parsed('all=0&all=1'), 'all')).toBe(false);
    expect(queryBool(parsed('all=1&all=0'), 'all')).toBe(true);
    expect(queryBool(parsed('all'), 'all')).toBe(false);
  });
});
