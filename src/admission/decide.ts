import { isDeepStrictEqual } from 'node:util';
import type { JsonValue, PolicyDecision, PolicyInput, PolicyViolation } from '../policy/contract.js';
import { PolicyError } from '../policy/policy-error.js';
import { applyPatch } from './json-patch.js';

/** Anything that judges one input: the wasm engine, or a test double for fault injection. */
export interface Evaluator {
  evaluate(input: PolicyInput): PolicyDecision;
  /** The entrypoint and bundle revision it evaluates, for the decision log. */
  readonly entrypoint?: string;
  readonly revision?: string | undefined;
}

/** What a patch operation did, without its value (which may be large, or a secret). */
export interface PatchSummary {
  op: string;
  path: string;
}

export interface Admission {
  allowed: boolean;
  /** The object to forward (mutated), when the request had one. */
  object: JsonValue | undefined;
  violations: PolicyViolation[];
  warnings: string[];
  /** Every patch operation applied, across rounds (op and path, not values), for the decision log. */
  patches: PatchSummary[];
  rounds: number;
  revision: string | undefined;
}

// Kubernetes-style mutation: apply the policy's patch and judge the result again, until a round
// proposes nothing new. A policy that keeps changing its mind is a broken policy: deny.
export const MAX_MUTATION_ROUNDS = 5;

/** Decides one input through the decision pool (step budget, then a worker); rejects with PolicyError on failure. */
export type AsyncDecide = (input: PolicyInput) => Promise<Admission>;

export function decide(evaluator: Evaluator, input: PolicyInput): Admission {
  const rounds = admissionRounds(input);
  let step = rounds.next();
  while (!step.done) step = rounds.next(evaluator.evaluate(step.value));
  return step.value;
}

/**
 * The admission of `input` rebuilt from the policy's decision of each round, as a decision worker
 * made them on its copy of the input: the same rounds run here on the original object (its exact
 * big integers included), each answered by the next decision instead of an evaluation.
 */
export function replayDecisions(input: PolicyInput, decisions: readonly PolicyDecision[]): Admission {
  let used = 0;
  const admission = decide(
    {
      evaluate: () => {
        const next = decisions[used++];
        if (next === undefined) throw new PolicyError('result', 'the decision worker returned fewer mutation rounds than the admission needs');
        return next;
      },
    },
    input,
  );
  if (used !== decisions.length) throw new PolicyError('result', 'the decision worker returned more mutation rounds than the admission needs');
  return admission;
}

// The mutation rounds, written once for every driver: yields each input to evaluate and receives
// the policy's decision on it.
function* admissionRounds(input: PolicyInput): Generator<PolicyInput, Admission, PolicyDecision> {
  let current = input;
  const warnings: string[] = [];
  const patches: PatchSummary[] = [];
  for (let round = 1; ; round++) {
    const decision = yield current;
    for (const w of decision.warnings) if (!warnings.includes(w)) warnings.push(w);
    let next: JsonValue | undefined = current.object;
    if (decision.patch.length > 0) {
      if (current.object === undefined) {
        throw new PolicyError('result', `the policy returned a patch for ${input.kind} ${input.operation}, which has no body to patch`);
      }
      try {
        next = applyPatch(current.object, decision.patch);
      } catch (err) {
        throw new PolicyError('result', `the policy's patch does not apply: ${(err as Error).message}`, { cause: err });
      }
    }
    if (decision.patch.length === 0 || isDeepStrictEqual(next, current.object)) {
      // Violations of a warn action become warnings the client sees; audit ones are only logged.
      for (const v of decision.violations) {
        // (unless the policy already put the same text in its warnings)
        if (v.action === 'warn' && !warnings.some((w) => w.includes(v.message))) {
          warnings.push(`${v.rule}: ${v.message}`);
        }
      }
      const denied = decision.violations.some((v) => v.action === 'deny');
      return {
        allowed: decision.allowed && !denied,
        object: current.object,
        violations: decision.violations,
        warnings,
        patches,
        rounds: round,
        revision: decision.revision,
      };
    }
    if (round >= MAX_MUTATION_ROUNDS) {
      throw new PolicyError('result', `the policy's mutations did not settle after ${MAX_MUTATION_ROUNDS} rounds`);
    }
    for (const p of decision.patch) patches.push({ op: p.op, path: p.path });
    current = { ...current, object: next };
  }
}

/** The denial text: rule ids with what to change, as the docker CLI will print it. */
export function denialMessage(violations: readonly PolicyViolation[]): string {
  const denies = violations.filter((v) => v.action === 'deny');
  if (denies.length === 0) return 'dockgate: request denied by policy';
  return 'dockgate: ' + denies.map((v) => `${v.rule}: ${v.message}`).join('; ');
}
