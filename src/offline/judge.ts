// Judging requests without a listening socket (`dockgate eval`): the proxy's own AdmissionGate,
// driven through judgeSent(), with an evaluator that remembers every round so the report can show
// the policy's patch. Nothing here decides anything the proxy would not.
import { randomUUID } from 'node:crypto';
import { decide, denialMessage, type Evaluator } from '../admission/decide.js';
import { AdmissionGate, type SentRequest } from '../admission/gate.js';
import type { InspectClient } from '../admission/lookup.js';
import { classify } from '../http/classify.js';
import type { Logger } from '../log/logger.js';
import type { JsonPatchOperation, JsonValue, PolicyDecision, PolicyInput, PolicyUserInfo, PolicyViolation } from '../policy/contract.js';
import { PolicyError } from '../policy/policy-error.js';
import type { GateVerdict } from '../proxy/gate.js';

/** allow: forwarded (maybe mutated); deny: refused by the policy or as malformed; error: could not be judged. */
export type Outcome = 'allow' | 'deny' | 'error';

export interface JudgedRequest {
  method: string;
  path: string;
  kind?: string;
  operation?: string;
  target?: string;
  outcome: Outcome;
  /** The refusal the client would get (status and the message the docker CLI prints). */
  status?: number;
  message?: string;
  violations: PolicyViolation[];
  warnings: string[];
  /** Every patch operation the policy applied, across mutation rounds, in order. */
  patch: JsonPatchOperation[];
  /** The body dockgate forwards (after mutation); absent when the route's body is not judged. */
  object?: JsonValue;
  /** What goes upstream when allowed: origin-form path and query. */
  forward?: string;
  /** The policy input of the first round (with `--show-input`). */
  input?: PolicyInput;
}

export interface JudgeSetup {
  evaluator: Evaluator;
  identity: PolicyUserInfo;
  /** Where lookups (oldObject, named volumes) are answered. */
  lookups: InspectClient;
  log: Logger;
  /** The config's owner label, handed to the policy as serve does (input.ownerLabel). */
  ownerLabel?: string;
}

// Records each round's decision per decision id (compose may send requests concurrently).
class RecordingEvaluator implements Evaluator {
  private readonly rounds = new Map<string, PolicyDecision[]>();
  private readonly inputs = new Map<string, PolicyInput>();

  constructor(private readonly inner: Evaluator) {}

  evaluate(input: PolicyInput): PolicyDecision {
    const decision = this.inner.evaluate(input);
    const list = this.rounds.get(input.uid);
    if (list) list.push(decision);
    else {
      this.rounds.set(input.uid, [decision]);
      this.inputs.set(input.uid, input);
    }
    return decision;
  }

  /** The first input and the rounds of one decision, forgotten afterwards. */
  take(uid: string): { input: PolicyInput | undefined; rounds: PolicyDecision[] } {
    const taken = { input: this.inputs.get(uid), rounds: this.rounds.get(uid) ?? [] };
    this.rounds.delete(uid);
    this.inputs.delete(uid);
    return taken;
  }
}

// The gate refuses with 500 when the policy failed and 502 when a lookup failed: dockgate could
// not judge. Every other refusal is a judgement on the request (policy denial, malformed request).
const JUDGE_FAILURES = new Set([500, 502]);

export class OfflineJudge {
  private readonly recorder: RecordingEvaluator;
  private readonly gate: AdmissionGate;

  constructor(private readonly setup: JudgeSetup) {
    this.recorder = new RecordingEvaluator(setup.evaluator);
    this.gate = new AdmissionGate({
      upstream: setup.lookups,
      evaluator: () => this.recorder,
      identity: setup.identity,
      log: setup.log,
      ...(setup.ownerLabel !== undefined ? { ownerLabel: setup.ownerLabel } : {}),
    });
  }

  /** Judges one whole HTTP request exactly as the proxy would; the verdict says what to answer. */
  async judge(sent: SentRequest, showInput = false): Promise<{ result: JudgedRequest; verdict: GateVerdict }> {
    let reported: { uid: string; allowed: boolean; object: JsonValue | undefined; rounds: number; violations: PolicyViolation[]; warnings: string[] } | undefined;
    const verdict = await this.gate.judgeSent(sent, (input, admission) => {
      reported = { uid: input.uid, ...admission };
    });
    const classified = classify(sent.method, sent.url);
    const route = classified.ok ? classified.route : undefined;
    const result: JudgedRequest = {
      method: sent.method,
      path: sent.url,
      ...(route ? { kind: route.kind, operation: route.operation, ...(route.target !== undefined ? { target: route.target } : {}) } : {}),
      outcome: 'allow',
      violations: [],
      warnings: [],
      patch: [],
    };
    if (reported) {
      const { input, rounds } = this.recorder.take(reported.uid);
      result.violations = reported.violations;
      result.warnings = reported.warnings;
      result.patch = rounds.slice(0, reported.rounds - 1).flatMap((d) => d.patch);
      if (showInput && input) result.input = input;
    }
    if (verdict.action === 'refuse') {
      result.outcome = reported || !JUDGE_FAILURES.has(verdict.status) ? 'deny' : 'error';
      result.status = verdict.status;
      result.message = verdict.message;
    } else {
      result.forward = verdict.target;
      if (verdict.body !== null && verdict.body.length > 0 && reported?.object !== undefined) result.object = reported.object;
    }
    return { result, verdict };
  }

  /**
   * Judges a ready policy input (the contract form): the decide step of the pipeline, without
   * classification, canonicalization or lookups — the input already says what those would.
   */
  async judgeInput(given: PolicyInput, showInput = false): Promise<JudgedRequest> {
    const input: PolicyInput = { ...given, uid: given.uid || randomUUID() };
    const result: JudgedRequest = {
      method: input.request.method,
      path: input.request.path,
      kind: input.kind,
      operation: input.operation,
      ...(input.target !== undefined ? { target: input.target } : {}),
      outcome: 'allow',
      violations: [],
      warnings: [],
      patch: [],
      ...(showInput ? { input } : {}),
    };
    try {
      const admission = await decide(this.recorder, input);
      const { rounds } = this.recorder.take(input.uid);
      result.violations = admission.violations;
      result.warnings = admission.warnings;
      result.patch = rounds.slice(0, admission.rounds - 1).flatMap((d) => d.patch);
      if (admission.object !== undefined) result.object = admission.object;
      if (!admission.allowed) {
        result.outcome = 'deny';
        result.status = 403;
        result.message = denialMessage(admission.violations);
      }
    } catch (err) {
      this.recorder.take(input.uid);
      if (!(err instanceof PolicyError)) throw err;
      result.outcome = 'error';
      result.status = 500;
      result.message = `dockgate: request refused: the policy could not be evaluated (${err.message})`;
    }
    return result;
  }
}
