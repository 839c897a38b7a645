// A decision worker thread: evaluates the policy for the decision pool, so a slow or stuck
// evaluation blocks this thread, never the proxy's event loop. The pool terminates a worker that
// overruns its deadline and starts another.
import { parentPort } from 'node:worker_threads';
import { rawJsonNumber } from '../docker/json-value.js';
import type { PolicyInput } from '../policy/contract.js';
import { PolicyEngine } from '../policy/engine.js';
import { PolicyError, describeThrown } from '../policy/policy-error.js';
import type { FromWorker, ToWorker } from './decision-protocol.js';

if (!parentPort) throw new Error('decision-worker.js runs as a worker thread of dockgate');
const port = parentPort;
let current: { generation: number; engine: PolicyEngine } | undefined;

// Integers beyond 2^53 come back as exact JSON.rawJSON leaves, as the canonicalizer made them.
function parseInput(text: string): PolicyInput {
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && !Number.isSafeInteger(value) && context?.source !== undefined && /^-?\d+$/.test(context.source)
      ? rawJsonNumber(context.source)
      : value,
  ) as PolicyInput;
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'policy') {
    current = { generation: msg.generation, engine: PolicyEngine.fromPortable(msg.policy) };
    return;
  }
  let reply: FromWorker;
  try {
    if (current?.generation !== msg.generation) throw new PolicyError('load', `the decision worker holds no policy of generation ${msg.generation}`);
    reply = { type: 'evaluated', id: msg.id, decision: current.engine.evaluate(parseInput(msg.input)) };
  } catch (err) {
    reply = { type: 'failed', id: msg.id, message: describeThrown(err), ...(err instanceof PolicyError ? { stage: err.stage } : {}) };
  }
  port.postMessage(reply);
});
port.postMessage({ type: 'ready' } satisfies FromWorker);
