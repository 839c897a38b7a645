import { describe, expect, it } from 'vitest';
import { decide, denialMessage, MAX_MUTATION_ROUNDS, replayDecisions, type Evaluator } from '../../src/admission/decide.js';
import type { JsonObject, PolicyDecision, PolicyInput } from '../../src/policy/contract.js';
import { PolicyError } from '../../src/policy/policy-error.js';

const base: PolicyInput = {
  uid: 'u',
  kind: 'container',
  operation: 'create',
  request: { method: 'POST', path: '/containers/create', query: {} },
  object: { Image: 'busybox', HostConfig: {} },
  userInfo: { username: 'ci', groups: [], listener: 'ci', authenticatedBy: 'unix' },
  dryRun: false,
};

const answer = (d: Partial<PolicyDecision>): PolicyDecision => ({
  allowed: true,
  violations: [],
  patch: [],
  warnings: [],
  revision: 'r1',
  ...d,
});

// Fault injection: evaluators whose answers a real policy would have to be broken to give.
function evaluator(fn: (input: PolicyInput) => PolicyDecision): Evaluator & { calls: PolicyInput[] } {
  const calls: PolicyInput[] = [];
  return {
    calls,
    evaluate(input) {
      calls.push(input);
      return fn(input);
    },
  };
}

describe('decide: mutation rounds', () => {
  it('applies a patch and judges the patched object again until nothing changes', () => {
    const ev = evaluator((input) => {
      const hc = (input.object as JsonObject).HostConfig as JsonObject;
      return hc.ReadonlyRootfs === true
        ? answer({})
        : answer({ patch: [{ op: 'add', path: '/HostConfig/ReadonlyRootfs', value: true }], warnings: ['root made read-only'] });
    });
    const result = decide(ev, base);
    expect(result.allowed).toBe(true);
    expect(result.object).toEqual({ Image: 'busybox', HostConfig: { ReadonlyRootfs: true } });
    expect(result.warnings).toEqual(['root made read-only']);
    expect(result.rounds).toBe(2);
    expect(result.patches).toEqual([{ op: 'add', path: '/HostConfig/ReadonlyRootfs' }]);
    expect(ev.calls[1]!.object).toEqual(result.object);
    // The caller's input is not modified in place.
    expect(base.object).toEqual({ Image: 'busybox', HostConfig: {} });
  });

  it('stops when a patch changes nothing (idempotent re-adds)', () => {
    const ev = evaluator(() => answer({ patch: [{ op: 'replace', path: '/Image', value: 'busybox' }] }));
    const result = decide(ev, base);
    expect(result.rounds).toBe(1);
    expect(result.allowed).toBe(true);
  });

  it('denies a policy whose mutations never settle', () => {
    let n = 0;
    const ev = evaluator(() => answer({ patch: [{ op: 'add', path: '/Labels', value: { n: String(n++) } }] }));
    expect(() => decide(ev, base)).toThrow(PolicyError);
    expect(ev.calls.length).toBe(MAX_MUTATION_ROUNDS);
  });

  it('treats a patch for a request without a body as a policy error', () => {
    const ev = evaluator(() => answer({ patch: [{ op: 'add', path: '/x', value: 1 }] }));
    const { object: _omit, ...noBody } = base;
    expect(() => decide(ev, { ...noBody, kind: 'container', operation: 'start' })).toThrow(/no body to patch/);
  });

  it('treats a patch that does not apply as a policy error', () => {
    const ev = evaluator(() => answer({ patch: [{ op: 'replace', path: '/Missing/Field', value: 1 }] }));
    expect(() => decide(ev, base)).toThrow(/patch does not apply/);
  });

  it('judges the final round: a deny violation denies even when the policy says allowed', () => {
    const ev = evaluator(() => answer({ violations: [{ rule: 'no-privileged', message: 'drop --privileged', action: 'deny' }] }));
    const result = decide(ev, base);
    expect(result.allowed).toBe(false);
    expect(denialMessage(result.violations)).toBe('dockgate: no-privileged: drop --privileged');
  });

  it('turns warn violations into warnings and keeps audit ones out of them', () => {
    const ev = evaluator(() =>
      answer({
        violations: [
          { rule: 'latest-tag', message: 'pin the image', action: 'warn' },
          { rule: 'host-network', message: 'host network', action: 'audit' },
        ],
      }),
    );
    const result = decide(ev, base);
    expect(result.allowed).toBe(true);
    expect(result.warnings).toEqual(['latest-tag: pin the image']);
  });
});

describe('replayDecisions: an admission rebuilt from the decisions a worker made', () => {
  const labelled = (input: PolicyInput) =>
    (input.object as JsonObject).Labels !== undefined ? answer({ warnings: ['labelled'] }) : answer({ patch: [{ op: 'add', path: '/Labels', value: { owner: 'ci' } }] });

  it('equals the admission decided in place', () => {
    const ev = evaluator(labelled);
    const decided = decide(ev, base);
    expect(decided.rounds).toBe(2);
    expect(replayDecisions(base, ev.calls.map(labelled))).toEqual(decided);
  });

  it('fails closed when the rounds do not match the admission', () => {
    const first = labelled(base);
    expect(() => replayDecisions(base, [first])).toThrow(/fewer mutation rounds/);
    expect(() => replayDecisions(base, [first, answer({}), answer({})])).toThrow(/more mutation rounds/);
  });
});
