// A stand-in decision worker for the pool's unit tests: it speaks the pool's protocol
// (src/admission/decision-protocol.ts) and misbehaves on request. The input's `uid` says how:
// "hang" never answers, "crash" exits the thread, "throw" throws outside the handler's try,
// anything else allows after a short while.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (msg) => {
  if (msg.type !== 'decide') return;
  const { uid } = JSON.parse(msg.input);
  if (uid === 'hang') return;
  if (uid === 'crash') process.exit(3);
  if (uid === 'throw') setImmediate(() => { throw new Error('worker blew up'); });
  setTimeout(() => parentPort.postMessage({ type: 'decided', id: msg.id, decisions: [{ allowed: true, violations: [], patch: [], warnings: [], revision: `gen-${msg.generation}` }] }), 5);
});
parentPort.postMessage({ type: 'ready' });
