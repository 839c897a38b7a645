import { describe, expect, it } from 'vitest';
import type { Evaluator } from '../../src/admission/decide.js';
import { decideMemoized, MEMO_ENTRIES } from '../../src/admission/decision-memo.js';
import type { PolicyDecision, PolicyInput } from '../../src/policy/contract.js';

const ping = (uid: string, query: Record<string, string[]> = {}): PolicyInput => ({
  uid,
  kind: 'system',
  operation: 'ping',
  request: { method: 'GET', path: '/_ping', query },
  userInfo: { username: 'ci', groups: [], listener: 'ci', authenticatedBy: 'unix' },
  dryRun: false,
});

function counting(decision: Partial<PolicyDecision> = {}): Evaluator & { calls: number } {
  return {
    calls: 0,
    evaluate() {
      this.calls++;
      return { allowed: true, violations: [], patch: [], warnings: [], revision: 'r', ...decision };
    },
  };
}

describe('decision memo', () => {
  it('judges an identical body-less input once per evaluator, whatever its decision id', () => {
    const ev = counting();
    const first = decideMemoized(ev, ping('a'));
    expect(decideMemoized(ev, ping('b'))).toBe(first);
    expect(ev.calls).toBe(1);
    decideMemoized(ev, ping('c', { x: ['1'] }));
    expect(ev.calls).toBe(2);
  });

  it('asks a new evaluator (a reloaded policy) again', () => {
    const before = counting({ allowed: true });
    const after = counting({ allowed: false });
    expect(decideMemoized(before, ping('a')).allowed).toBe(true);
    expect(decideMemoized(after, ping('a')).allowed).toBe(false);
    expect(after.calls).toBe(1);
  });

  it('always evaluates inputs with a body, looked-up state or volumes', () => {
    const ev = counting();
    for (const extra of [{ object: {} }, { oldObject: { Id: 'x' } }, { volumes: { v: null } }]) {
      decideMemoized(ev, { ...ping('a'), ...extra });
      decideMemoized(ev, { ...ping('b'), ...extra });
    }
    expect(ev.calls).toBe(6);
  });

  it('does not remember a failed evaluation', () => {
    let fail = true;
    const ev: Evaluator = {
      evaluate() {
        if (fail) throw new Error('trap');
        return { allowed: true, violations: [], patch: [], warnings: [], revision: 'r' };
      },
    };
    expect(() => decideMemoized(ev, ping('a'))).toThrow('trap');
    fail = false;
    expect(decideMemoized(ev, ping('a')).allowed).toBe(true);
  });

  it('keeps at most MEMO_ENTRIES inputs, dropping the oldest', () => {
    const ev = counting();
    for (let i = 0; i <= MEMO_ENTRIES; i++) decideMemoized(ev, ping('u', { n: [String(i)] }));
    expect(ev.calls).toBe(MEMO_ENTRIES + 1);
    decideMemoized(ev, ping('u', { n: [String(MEMO_ENTRIES)] })); // newest: still known
    expect(ev.calls).toBe(MEMO_ENTRIES + 1);
    decideMemoized(ev, ping('u', { n: ['0'] })); // oldest: dropped
    expect(ev.calls).toBe(MEMO_ENTRIES + 2);
  });
});
