// A decision worker thread: evaluates the policy for the decision pool, so a slow or stuck
// evaluation blocks this thread, never the proxy's event loop. The pool terminates a worker that
// overruns its deadline and starts another.
import { parentPort } from 'node:worker_threads';
import { PolicyEngine } from '../policy/engine.js';
import { PolicyError, describeThrown } from '../policy/policy-error.js';
import type { FromWorker, ToWorker } from './decision-protocol.js';

if (!parentPort) throw new Error('decision-worker.js runs as a worker thread of dockgate');
const port = parentPort;
let current: { generation: number; engine: PolicyEngine } | undefined;

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'policy') {
    current = { generation: msg.generation, engine: PolicyEngine.fromPortable(msg.policy) };
    return;
  }
  let reply: FromWorker;
  try {
    if (current?.generation !== msg.generation) throw new PolicyError('load', `the decision worker holds no policy of generation ${msg.generation}`);
    // The input's JSON text goes to the policy as is: exact big integers stay exact (the text
    // was written from the canonicalizer's JSON.rawJSON leaves).
    reply = { type: 'evaluated', id: msg.id, decision: current.engine.evaluateSerialized(msg.input) };
  } catch (err) {
    reply = { type: 'failed', id: msg.id, message: describeThrown(err), ...(err instanceof PolicyError ? { stage: err.stage } : {}) };
  }
  port.postMessage(reply);
});
port.postMessage({ type: 'ready' } satisfies FromWorker);
