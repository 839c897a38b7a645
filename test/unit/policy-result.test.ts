import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/policy/policy-error.js';
import { checkPolicyResult, unwrapResultSet } from '../../src/policy/result.js';

function resultError(value: unknown): PolicyError {
  try {
    checkPolicyResult(value);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as PolicyError).stage).toBe('result');
    return err as PolicyError;
  }
  throw new Error('checkPolicyResult() did not throw');
}

describe('checkPolicyResult', () => {
  it('fills omitted lists with empty ones', () => {
    expect(checkPolicyResult({ allowed: true })).toEqual({ allowed: true, violations: [], patch: [], warnings: [] });
  });

  it('accepts every action and every patch op', () => {
    const result = {
      allowed: false,
      violations: [
        { rule: 'a', message: 'm', action: 'deny' },
        { rule: 'b', message: 'm', action: 'warn' },
        { rule: 'c', message: 'm', action: 'audit' },
      ],
      patch: [
        { op: 'add', path: '/Labels/a~1b', value: null },
        { op: 'remove', path: '/x' },
        { op: 'replace', path: '', value: {} },
        { op: 'move', from: '/a', path: '/b' },
        { op: 'copy', from: '/a', path: '/c/-' },
        { op: 'test', path: '/a/0', value: [1] },
      ],
      warnings: ['w'],
    };
    expect(checkPolicyResult(result)).toEqual(result);
  });

  it.each<[string, unknown, RegExp]>([
    ['undefined', undefined, /must be an object, got nothing/],
    ['null', null, /must be an object, got null/],
    ['an array', [], /must be an object, got an array/],
    ['allowed as a string', { allowed: 'yes' }, /"allowed" must be true or false, got "yes"/],
    ['allowed missing', { violations: [] }, /"allowed" must be true or false, got nothing/],
    ['an unknown top-level key', { allowed: true, warning: [] }, /unknown field "warning"/],
    ['violations null', { allowed: true, violations: null }, /"violations" must be an array, got null/],
    ['a violation with an extra key', { allowed: false, violations: [{ rule: 'r', message: 'm', action: 'deny', why: 'x' }] }, /violations\[0\] has unknown field "why"/],
    ['a violation with a numeric rule', { allowed: false, violations: [{ rule: 1, message: 'm', action: 'deny' }] }, /violations\[0\]\.rule must be a non-empty string/],
    ['an upper-case action', { allowed: false, violations: [{ rule: 'r', message: 'm', action: 'DENY' }] }, /action must be one of deny, warn, audit, got "DENY"/],
    ['allowed with a deny', { allowed: true, violations: [{ rule: 'r', message: 'm', action: 'deny' }] }, /"allowed" is true but violation "r" has action "deny"/],
    ['a patch that is an object', { allowed: true, patch: { op: 'add' } }, /"patch" must be an array/],
    ['a patch op with an extra key', { allowed: true, patch: [{ op: 'remove', path: '/a', value: 1 }] }, /patch\[0\] \(remove\) has unknown field "value"/],
    ['a copy without from', { allowed: true, patch: [{ op: 'copy', path: '/a' }] }, /patch\[0\] \(copy\) is missing "from"/],
    ['a bad from pointer', { allowed: true, patch: [{ op: 'copy', from: 'a', path: '/a' }] }, /patch\[0\]\.from must be a JSON Pointer/],
    ['an op that is not a string', { allowed: true, patch: [{ op: 1, path: '/a' }] }, /patch\[0\]\.op must be one of/],
    ['an inherited op name', { allowed: true, patch: [{ op: 'toString', path: '/a' }] }, /patch\[0\]\.op must be one of/],
    ['a null warning', { allowed: true, warnings: [null] }, /warnings\[0\] must be a string, got null/],
  ])('throws for %s', (_name, value, pattern) => {
    expect(resultError(value).message).toMatch(pattern);
  });
});

describe('unwrapResultSet', () => {
  it('returns the single result', () => {
    expect(unwrapResultSet([{ result: { allowed: true } }])).toEqual({ allowed: true });
  });

  it('throws for empty, multiple or shapeless result sets', () => {
    expect(() => unwrapResultSet([])).toThrow(/undefined for this input/);
    expect(() => unwrapResultSet([{ result: 1 }, { result: 2 }])).toThrow(/expected one result, got 2/);
    expect(() => unwrapResultSet([{ value: 1 }])).toThrow(/no "result"/);
    expect(() => unwrapResultSet({ result: 1 })).toThrow(/must be an array/);
  });
});
