// One structured log line per admission decision: what an operator greps, ships and alerts on.
// The same record feeds the metrics (src/metrics/metrics.ts), so logs and counters agree.
import type { RolloutMode } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import type { PatchSummary } from '../admission/decide.js';
import type { PolicyViolation } from '../policy/contract.js';

/**
 * allowed: forwarded. denied: the policy denied it (enforce mode). audited: the policy denied it
 * but audit mode forwarded it anyway. refused: dockgate refused it before or instead of a policy
 * verdict (unparseable, unsupported, lookup or evaluation failure: fail closed).
 */
export type DecisionResult = 'allowed' | 'denied' | 'audited' | 'refused';

export interface DecisionIdentity {
  listener: string;
  username: string;
  groups: string[];
  profile?: string;
}

export interface DecisionLine {
  decisionId: string;
  identity: DecisionIdentity;
  method: string;
  /** The path as classified (version prefix removed), or the raw target when it did not classify. */
  route: string;
  kind: string;
  operation: string;
  target?: string;
  /** Whether dockgate forwarded the request. */
  allowed: boolean;
  result: DecisionResult;
  mode: RolloutMode;
  violations: PolicyViolation[];
  patch: PatchSummary[];
  warnings: string[];
  revision?: string;
  /** Classification to verdict, without the time the client took to send its body. */
  latencyMs: number;
  /** For refused: the status and message the client got. */
  status?: number;
  reason?: string;
}

const READS = new Set(['GET', 'HEAD']);

/** Reads that the policy let through with nothing to say are the bulk of traffic: debug only. */
export function isPassthrough(r: DecisionLine): boolean {
  return r.result === 'allowed' && READS.has(r.method) && r.violations.length === 0 && r.patch.length === 0 && r.warnings.length === 0;
}

const MESSAGES: Record<DecisionResult, string> = {
  allowed: 'admission decision: allowed',
  denied: 'admission decision: denied',
  audited: 'admission decision: would deny (audit mode: allowed)',
  refused: 'admission decision: refused',
};

// A listener's logger already carries its name (a child logger's binding): naming it again would
// put the key in the JSON line twice.
const namesListener = new WeakMap<Logger, boolean>();

export function logDecision(log: Logger, r: DecisionLine): void {
  const level = isPassthrough(r) ? 'debug' : 'info';
  if (!log.isLevelEnabled(level)) return;
  let bound = namesListener.get(log);
  if (bound === undefined) {
    bound = Object.hasOwn(log.bindings(), 'listener');
    namesListener.set(log, bound);
  }
  log[level](
    {
      decision: r.decisionId,
      ...(bound ? {} : { listener: r.identity.listener }),
      user: r.identity.username,
      groups: r.identity.groups,
      ...(r.identity.profile !== undefined ? { profile: r.identity.profile } : {}),
      method: r.method,
      route: r.route,
      kind: r.kind,
      operation: r.operation,
      ...(r.target !== undefined ? { target: r.target } : {}),
      allowed: r.allowed,
      result: r.result,
      mode: r.mode,
      violations: r.violations,
      patch: r.patch,
      warnings: r.warnings,
      revision: r.revision ?? null,
      latencyMs: Math.round(r.latencyMs * 1000) / 1000,
      ...(r.status !== undefined ? { status: r.status } : {}),
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
    },
    MESSAGES[r.result],
  );
}
