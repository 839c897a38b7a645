// Decisions on inputs without a body or looked-up state (GET /_ping, lists, version, …) depend on
// nothing but the route, query and identity, so the same few inputs come back on every request.
// The wasm policy is a pure function of input and data (opa-wasm offers no clock or randomness
// builtin), and a reload brings a new evaluator object, so a decision holds for as long as the
// evaluator that made it is in force. Inputs with a body or looked-up state are always evaluated.
import type { PolicyInput } from '../policy/contract.js';
import { decide, type Admission, type AsyncDecide, type Evaluator } from './decide.js';

/** Distinct body-less inputs kept per evaluator; the oldest goes first. */
export const MEMO_ENTRIES = 512;

const memos = new WeakMap<Evaluator, Map<string, Admission>>();

/** The memo key of an input (everything but the decision id), or null when it is not memoized. */
export function memoKey(input: PolicyInput): string | null {
  if (input.object !== undefined || input.oldObject !== undefined || input.volumes !== undefined) return null;
  const { uid: _uid, ...rest } = input;
  return JSON.stringify(rest);
}

/**
 * decide(), reusing the admission of an identical body-less input judged by the same evaluator.
 * With `offloaded` (the decision pool) a decision not in the memo is made under the pool's step
 * budget and deadline; a memo hit stays synchronous either way.
 */
export function decideMemoized(evaluator: Evaluator, input: PolicyInput): Admission;
export function decideMemoized(evaluator: Evaluator, input: PolicyInput, offloaded: AsyncDecide | undefined): Admission | Promise<Admission>;
export function decideMemoized(evaluator: Evaluator, input: PolicyInput, offloaded?: AsyncDecide): Admission | Promise<Admission> {
  const run = () => (offloaded ? offloaded(input) : decide(evaluator, input));
  const key = memoKey(input);
  if (key === null) return run();
  let memo = memos.get(evaluator);
  if (memo === undefined) {
    memo = new Map();
    memos.set(evaluator, memo);
  }
  const known = memo.get(key);
  if (known !== undefined) return known;
  const admission = run(); // a failure throws (or rejects) and is not remembered
  if (admission instanceof Promise) return admission.then((a) => remember(memo, key, a));
  return remember(memo, key, admission);
}

function remember(memo: Map<string, Admission>, key: string, admission: Admission): Admission {
  if (memo.size >= MEMO_ENTRIES) memo.delete(memo.keys().next().value!);
  memo.set(key, admission);
  return admission;
}
