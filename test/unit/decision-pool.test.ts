import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { decide } from '../../src/admission/decide.js';
import { rawJsonNumber } from '../../src/docker/json-value.js';
import { PolicyEngine } from '../../src/policy/engine.js';
import { ensureDistBuilt } from '../support/build-dist.js';
import { containerCreate } from './support/policy-inputs.js';
import { DecisionPool } from '../../src/admission/decision-pool.js';
import { createLogger } from '../../src/log/logger.js';
import type { PolicyInput } from '../../src/policy/contract.js';
import { PolicyError } from '../../src/policy/policy-error.js';

// The decision pool's bookkeeping, with a scripted worker that hangs, crashes or answers on
// request: a deadline or a crash fails only its own evaluation (PolicyError: the gate denies),
// the worker is replaced, and the other evaluations are still answered.

const WORKER = pathToFileURL(path.join(import.meta.dirname, 'support', 'scripted-decision-worker.mjs'));
// The scripted worker never builds an engine: a stand-in that can be posted is enough.
const engine = (revision: string) => ({ revision, toPortable: () => ({ revision }) }) as unknown as PolicyEngine;
const input = (uid: string) => ({ uid, kind: 'container', operation: 'list' }) as unknown as PolicyInput;

let pool: DecisionPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

function newPool(workers: number, deadlineMs = 300): DecisionPool {
  pool = new DecisionPool({ workers, deadlineMs, log: createLogger('silent'), workerUrl: WORKER });
  return pool;
}

describe('DecisionPool', () => {
  test('starts no worker until an evaluation needs one', async () => {
    const p = newPool(2);
    expect(p.stats.workers).toBe(0);
    await expect(p.decide(engine('a'), input('ok'))).resolves.toMatchObject({ allowed: true });
    expect(p.stats.workers).toBe(1);
  });

  test('with inlineSteps, a policy module without a step counter is decided in a worker, with one warning', async () => {
    const warnings: unknown[] = [];
    const log = createLogger('silent');
    log.warn = ((obj: unknown) => void warnings.push(obj)) as typeof log.warn;
    pool = new DecisionPool({ workers: 1, deadlineMs: 300, inlineSteps: 200_000, log, workerUrl: WORKER });
    const stepless = Object.assign(engine('a'), { stepless: 'opcode 0xfd is not known to the step counter' });
    await expect(pool.decide(stepless, input('ok'))).resolves.toMatchObject({ allowed: true });
    await expect(pool.decide(stepless, input('ok'))).resolves.toMatchObject({ allowed: true });
    expect(pool.stats).toMatchObject({ workers: 1, inline: 0, handedOver: 0 });
    expect(warnings).toEqual([expect.objectContaining({ reason: 'opcode 0xfd is not known to the step counter' })]);
  });

  test('an evaluation past the deadline is denied and its worker replaced; the others are answered', async () => {
    const p = newPool(2);
    const stuck = p.decide(engine('a'), input('hang'));
    const others = Array.from({ length: 5 }, () => p.decide(engine('a'), input('ok')));
    // The others finish on the second worker while the first is stuck.
    await expect(Promise.all(others)).resolves.toHaveLength(5);
    await expect(stuck).rejects.toThrow(/did not decide within 300 ms/);
    expect(p.stats.deadlineExceeded).toBe(1);
    await expect(p.decide(engine('a'), input('ok'))).resolves.toMatchObject({ allowed: true });
  });

  test('a single worker stuck past its deadline delays the queue, then serves it', async () => {
    const p = newPool(1);
    const stuck = p.decide(engine('a'), input('hang'));
    const next = p.decide(engine('a'), input('ok'));
    await expect(stuck).rejects.toThrow(/deadline|policyDeadlineMs/);
    await expect(next).resolves.toMatchObject({ allowed: true });
  });

  test.each(['crash', 'throw'])('a worker that dies (%s) fails its evaluation only; a new worker takes the next', async (how) => {
    const p = newPool(1, 5_000);
    await expect(p.decide(engine('a'), input(how))).rejects.toThrow(/decision worker crashed/);
    expect(p.stats.crashed).toBe(1);
    await expect(p.decide(engine('a'), input('ok'))).resolves.toMatchObject({ allowed: true });
  });

  test('a worker that cannot start denies what waits, and is tried again for the next evaluation', async () => {
    pool = new DecisionPool({ workers: 2, deadlineMs: 300, log: createLogger('silent'), workerUrl: new URL('./no-such-worker.mjs', WORKER) });
    await expect(pool.decide(engine('a'), input('ok'))).rejects.toThrow(/could not start/);
    await expect(pool.decide(engine('a'), input('ok'))).rejects.toThrow(/could not start/);
    expect(pool.stats.workers).toBe(0);
  });

  test('a new policy reaches the worker before the first evaluation that needs it', async () => {
    const p = newPool(1);
    const a = engine('a');
    const b = engine('b');
    const first = await p.decide(a, input('ok'));
    const second = await p.decide(b, input('ok'));
    const again = await p.decide(a, input('ok'));
    expect(first.revision).not.toBe(second.revision);
    expect(again.revision).toBe(first.revision);
  });

  test('close() denies what is queued or running', async () => {
    const p = newPool(1);
    const running = expect(p.decide(engine('a'), input('hang'))).rejects.toThrow(/shutting down/);
    const queued = expect(p.decide(engine('a'), input('ok'))).rejects.toThrow(/shutting down/);
    await p.close();
    await running;
    await queued;
    await expect(p.decide(engine('a'), input('ok'))).rejects.toThrow(/shutting down/);
  });
});

describe('DecisionPool with the real decision worker', () => {
  beforeAll(async () => {
    await ensureDistBuilt();
  }, 120_000);

  const bundle = (file: string, entrypoint: string) => PolicyEngine.load(fileURLToPath(new URL(`../../policy/dist/${file}`, import.meta.url)), { entrypoint });
  const realPool = (opts: { deadlineMs: number; inlineSteps?: number }) => {
    pool = new DecisionPool({ workers: 1, ...opts, log: createLogger('silent'), workerUrl: new URL('../../dist/admission/decision-worker.js', import.meta.url) });
    return pool;
  };

  test('the worker decides every mutation round, as in-process; big integers stay exact', async () => {
    const real = await bundle('test-deny-privileged.tar.gz', 'dockgate/test/decision');
    const p = realPool({ deadlineMs: 10_000 });
    const create = containerCreate({ HostConfig: { Memory: rawJsonNumber('9007199254740993') } });
    const admission = await p.decide(real, create);
    expect(admission).toEqual(decide(real, create));
    expect(admission.rounds).toBe(2); // the test policy stamps a label, then finds nothing to change
    expect(JSON.stringify((admission.object as { HostConfig: unknown }).HostConfig)).toContain('"Memory":9007199254740993');
    const denied = await p.decide(real, containerCreate({ HostConfig: { Privileged: true } }));
    expect(denied.allowed).toBe(false);
  });

  test('with inlineSteps, a decision within the budget is made on the event loop: no worker starts', async () => {
    const real = await bundle('test-deny-privileged.tar.gz', 'dockgate/test/decision');
    const p = realPool({ deadlineMs: 10_000, inlineSteps: 200_000 });
    const create = containerCreate({ HostConfig: { Memory: rawJsonNumber('9007199254740993') } });
    expect(await p.decide(real, create)).toEqual(decide(real, create));
    expect((await p.decide(real, containerCreate({ HostConfig: { Privileged: true } }))).allowed).toBe(false);
    expect(p.stats).toMatchObject({ workers: 0, inline: 2, handedOver: 0 });
  });

  test('with inlineSteps, an input whose JSON text is longer than the budget goes to a worker without an attempt', async () => {
    const real = await bundle('test-deny-privileged.tar.gz', 'dockgate/test/decision');
    const create = containerCreate();
    const budget = JSON.stringify(create).length - 1;
    const p = realPool({ deadlineMs: 10_000, inlineSteps: budget });
    expect(await p.decide(real, create)).toEqual(decide(real, create));
    expect(p.stats).toMatchObject({ workers: 1, inline: 0, handedOver: 0 });
  });

  test('with inlineSteps, a decision that runs out of steps goes to a worker, under the deadline', async () => {
    const misbehaving = await bundle('test-misbehaving.tar.gz', 'dockgate/test/misbehaving/decision');
    const p = realPool({ deadlineMs: 500, inlineSteps: 10_000 });
    const spin = p.decide(misbehaving, containerCreate({ Labels: { 'dockgate.test/misbehave': 'spin' } }));
    await expect(spin).rejects.toThrow(/did not decide within 500 ms \(policyDeadlineMs\)/);
    expect(p.stats).toMatchObject({ inline: 0, handedOver: 1, deadlineExceeded: 1 });
    // A policy failure within the budget is denied on the event loop, not retried in a worker.
    await expect(p.decide(misbehaving, containerCreate({ Labels: { 'dockgate.test/misbehave': 'throw' } }))).rejects.toThrow(PolicyError);
    expect(p.stats).toMatchObject({ handedOver: 1, workers: 0 });
  });

  test("the worker's opa-wasm runs the yaml builtins (its parser loaded on first use there too)", async () => {
    const fixtures = await bundle('test-engine-fixtures.tar.gz', 'dockgate/fixtures/yaml_builtins');
    const p = realPool({ deadlineMs: 10_000 });
    const admission = await p.decide(fixtures, { s: 'b: [x, "y"]\na: 1\n' } as unknown as PolicyInput);
    expect(admission.warnings).toEqual(['b:\n  - x\n  - y\na: 1\n', 'true']);
  });
});
