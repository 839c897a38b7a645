// The policy in force, swapped whole when a new bundle activates. The gate asks for current() once
// per request (synchronously, no await on the hot path) and keeps that evaluator for all the
// request's mutation rounds, so a swap never mixes two policies in one decision; requests in
// flight finish on the evaluator they started with.
import type { Evaluator } from '../admission/decide.js';
import type { PolicyDecision, PolicyInput } from './contract.js';
import type { PolicyEngine } from './engine.js';
import { PolicyError } from './policy-error.js';

/** What distribution reports; the metrics module implements it, tests and the log use the default. */
export interface PolicyStats {
  policyLoaded(revision: string | undefined): void;
  policyReloadFailed(reason: string): void;
}

export const NO_STATS: PolicyStats = { policyLoaded: () => {}, policyReloadFailed: () => {} };

/** Refuses every request (fail closed) while no bundle has been activated yet. */
class NoPolicy implements Evaluator {
  constructor(private readonly why: string) {}
  evaluate(_input: PolicyInput): PolicyDecision {
    throw new PolicyError('load', this.why);
  }
}

export interface ActivePolicy {
  engine: PolicyEngine;
  /** Where it came from: a file path or a bundle URL. */
  source: string;
  /** sha256 of the bundle bytes, to skip reloading an unchanged file. */
  digest: string;
  activatedAt: Date;
}

export class PolicyStore {
  private active: ActivePolicy | undefined;
  private evaluator: Evaluator;

  constructor(waitingFor: string) {
    this.evaluator = new NoPolicy(`no policy bundle is active yet (waiting for ${waitingFor})`);
  }

  /** The evaluator for one request. */
  current(): Evaluator {
    return this.evaluator;
  }

  get policy(): ActivePolicy | undefined {
    return this.active;
  }

  /** True once a policy is in force (/readyz). */
  get loaded(): boolean {
    return this.active !== undefined;
  }

  activate(policy: ActivePolicy): void {
    this.active = policy;
    this.evaluator = policy.engine;
  }
}
