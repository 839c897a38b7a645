// A decision worker thread: decides inputs for the decision pool, so a slow or stuck evaluation
// blocks this thread, never the proxy's event loop. The pool terminates a worker that overruns
// its deadline and starts another.
import { parentPort } from 'node:worker_threads';
import { rawJsonNumber } from '../docker/json-value.js';
import type { PolicyDecision, PolicyInput } from '../policy/contract.js';
import { PolicyEngine } from '../policy/engine.js';
import { PolicyError, describeThrown } from '../policy/policy-error.js';
import { decide } from './decide.js';
import type { FromWorker, ToWorker } from './decision-protocol.js';

if (!parentPort) throw new Error('decision-worker.js runs as a worker thread of dockgate');
const port = parentPort;
let current: { generation: number; engine: PolicyEngine } | undefined;

// An integer beyond 2^53 has 16 digits or more: only a text with such a run (or a long digit run
// inside a string, such as an ID) needs the parse that keeps them exact, about ten times slower.
const LONG_DIGIT_RUN = /[0-9]{16}/;

// Integers beyond 2^53 come back as exact JSON.rawJSON leaves, as the canonicalizer made them.
function parseInput(text: string): PolicyInput {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text) as PolicyInput;
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && !Number.isSafeInteger(value) && context?.source !== undefined && /^-?\d+$/.test(context.source)
      ? rawJsonNumber(context.source)
      : value,
  ) as PolicyInput;
}

/**
 * The policy's decision of each mutation round of the admission (src/admission/decide.ts). The
 * first round judges the JSON text as sent (no parse, no re-serialization); only a patch needs the
 * input as an object, to apply it and judge the result again.
 */
function decideRounds(engine: PolicyEngine, text: string): PolicyDecision[] {
  const first = engine.evaluateSerialized(text);
  if (first.patch.length === 0) return [first]; // settled in one round
  const input = parseInput(text);
  const decisions = [first];
  decide(
    {
      evaluate: (round) => {
        if (round === input) return first;
        const next = engine.evaluate(round);
        decisions.push(next);
        return next;
      },
    },
    input,
  );
  return decisions;
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'policy') {
    current = { generation: msg.generation, engine: PolicyEngine.fromPortable(msg.policy) };
    return;
  }
  let reply: FromWorker;
  try {
    if (current?.generation !== msg.generation) throw new PolicyError('load', `the decision worker holds no policy of generation ${msg.generation}`);
    reply = { type: 'decided', id: msg.id, decisions: decideRounds(current.engine, msg.input) };
  } catch (err) {
    reply = { type: 'failed', id: msg.id, message: describeThrown(err), ...(err instanceof PolicyError ? { stage: err.stage } : {}) };
  }
  port.postMessage(reply);
});
port.postMessage({ type: 'ready' } satisfies FromWorker);
