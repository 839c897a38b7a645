// Messages between the decision pool (main thread) and its worker threads. A worker holds one
// policy at a time, identified by a generation number; a request names the generation it must be
// judged by, so a policy reload never mixes two policies in one decision.
//
// The input travels as JSON text: structured cloning would turn an exact big integer (a
// JSON.rawJSON leaf, see docker/json-value.ts) into an object, and the policy would judge
// something else than what is forwarded. The worker hands the text to the policy as is.
import type { PolicyDecision } from '../policy/contract.js';
import type { PortablePolicy } from '../policy/engine.js';
import type { PolicyErrorStage } from '../policy/policy-error.js';

export type ToWorker =
  | { type: 'policy'; generation: number; policy: PortablePolicy }
  /** Decide the input: every mutation round, in the worker (one round trip per admission). */
  | { type: 'decide'; id: number; generation: number; input: string };

export type FromWorker =
  /** Sent once the worker has loaded: a cold start does not count against an evaluation's deadline. */
  | { type: 'ready' }
  /** The policy's decision of each round, in order (the pool replays them on its own input). */
  | { type: 'decided'; id: number; decisions: PolicyDecision[] }
  /** `stage` is set when the failure was a PolicyError; otherwise it was an unexpected throw. */
  | { type: 'failed'; id: number; message: string; stage?: PolicyErrorStage };
