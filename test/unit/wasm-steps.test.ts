// The step counter (src/policy/wasm-steps.ts): the rewritten policy modules decide exactly as the
// originals; the counter stops an evaluation after the given number of steps (function entries of
// the plan and loop iterations), leaves the engine usable, and a module it cannot read is refused
// with WasmFormatError (the engine then runs the original, without withinSteps()).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/admission/decide.js';
import { loadBundleFile, DEFAULT_BUNDLE_LIMITS } from '../../src/policy/bundle.js';
import type { PolicyInput } from '../../src/policy/contract.js';
import { PolicyEngine, StepsExhausted } from '../../src/policy/engine.js';
import { STEPS_EXPORT, STEPS_PER_PAGE, WasmFormatError, instrumentSteps } from '../../src/policy/wasm-steps.js';
import { containerCreate, policyInput } from './support/policy-inputs.js';

// TypeScript declares WebAssembly only in its DOM libs (not loaded here): the pieces used, typed.
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmJs }).WebAssembly;
interface WasmJs {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
  RuntimeError: new () => Error;
}

const DIST = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../policy/dist');
const { loadPolicySync } = createRequire(import.meta.url)('@open-policy-agent/opa-wasm') as typeof import('@open-policy-agent/opa-wasm');

// --- a few hand-assembled modules --------------------------------------------------------------
const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];
const str = (s: string) => [...leb(s.length), ...Buffer.from(s)];
const body = (code: number[]) => [...leb(code.length + 1), 0, ...code]; // no locals
/** A module of `() -> ()` functions, the first exported as "run"; optional function names; a memory of 1 page. */
function module(functions: number[][], names?: string[]): Uint8Array {
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, 0, 0]])),
    ...section(3, vec(functions.map(() => [0]))),
    ...section(5, vec([[0x00, 0x01]])),
    ...section(7, vec([[...str('run'), 0, 0]])),
    ...section(10, vec(functions.map(body))),
    ...(names ? section(0, [...str('name'), ...section(1, vec(names.map((n, i) => [...leb(i), ...str(n)])))]) : []),
  ]);
}
const CALL = 0x10, LOOP = 0x03, BR = 0x0c, END = 0x0b, EMPTY = 0x40;

interface Run {
  run(): void;
  steps: { value: bigint };
}
function instantiate(wasm: Uint8Array): Run {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(instrumentSteps(wasm)));
  return { run: instance.exports.run as () => void, steps: instance.exports[STEPS_EXPORT] as unknown as { value: bigint } };
}
/** Steps `run` takes, counted by the module: the smallest budget with which it finishes. */
function stepsOf(m: Run, most = 1000): number {
  for (let budget = 0; budget < most; budget++) {
    m.steps.value = BigInt(budget);
    try {
      m.run();
      return budget;
    } catch (err) {
      expect(err).toBeInstanceOf(WebAssembly.RuntimeError);
      expect(m.steps.value).toBe(0n);
    }
  }
  throw new Error(`no budget under ${most} steps`);
}

describe('instrumentSteps on hand-made modules', () => {
  it('counts every function entry when the module names no plan functions', () => {
    // run calls f twice, f calls g: 1 + 2 × (1 + 1) = 5 entries, no loops.
    const m = instantiate(module([[CALL, 1, CALL, 1, END], [CALL, 2, END], [END]]));
    expect(stepsOf(m)).toBe(5);
  });

  it("counts only the plan's functions (g<N>.…) when the names show them, and every loop iteration", () => {
    // run (plan) calls f (runtime) three times; f loops 4 times (a counter in a local would need
    // locals: the loop is unrolled as 4 nested single-pass loops instead).
    const once = [LOOP, EMPTY, END];
    const m = instantiate(module([[CALL, 1, CALL, 1, CALL, 1, END], [...once, ...once, ...once, ...once, END]], ['g0.data.p.run', 'opa_value_f']));
    expect(stepsOf(m)).toBe(1 + 3 * 4);
  });

  it('stops an endless loop, and -1 (the value between budgets) counts nothing', () => {
    const m = instantiate(module([[LOOP, EMPTY, BR, 0, END, END]]));
    m.steps.value = 100_000n;
    expect(() => m.run()).toThrow(WebAssembly.RuntimeError);
    expect(m.steps.value).toBe(0n);
    const calls = instantiate(module([[CALL, 1, END], [END]]));
    expect(calls.steps.value).toBe(-1n); // its initial value: uncounted
    calls.run();
    expect(calls.steps.value).toBe(-3n);
  });

  it('charges STEPS_PER_PAGE steps per page of memory grown', () => {
    // run: grow the memory by 3 pages, then by 2 (memory.grow's result dropped).
    const grow = (pages: number) => [0x41, pages, 0x40, 0x00, 0x1a];
    const m = instantiate(module([[...grow(3), ...grow(2), END]]));
    expect(stepsOf(m, 6 * STEPS_PER_PAGE)).toBe(1 + 5 * STEPS_PER_PAGE); // its entry, then the pages
  });

  it('refuses what it cannot read: not wasm, truncated, an unknown opcode', () => {
    expect(() => instrumentSteps(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(WasmFormatError);
    const ok = module([[CALL, 1, END], [END]]);
    expect(() => instrumentSteps(ok.subarray(0, ok.length - 3))).toThrow(WasmFormatError);
    // 0xfd: the SIMD prefix, which OPA's modules do not use and this decoder does not know.
    expect(() => instrumentSteps(module([[0xfd, 0x0c, ...new Array(16).fill(0), 0x1a, END]]))).toThrow(/opcode 0xfd/);
  });
});

describe('instrumentSteps on the shipped policy modules', () => {
  const bundles = ['dockgate.tar.gz', 'test-deny-privileged.tar.gz', 'test-engine-fixtures.tar.gz'];
  const inputs: PolicyInput[] = [
    containerCreate(),
    containerCreate({ HostConfig: { Privileged: true, Binds: ['/:/host'], CapAdd: ['SYS_ADMIN'] } }),
    containerCreate({ User: 'root', Labels: { a: 'b'.repeat(5000) } }),
    policyInput('exec', 'create', { Cmd: ['sh'], User: 'root', Privileged: true }, 'web'),
    policyInput('volume', 'create', { Name: 'v', Driver: 'local', DriverOpts: { type: 'none', o: 'bind', device: '/etc' } }),
  ];

  it.each(bundles)('%s: every entrypoint decides as the original module', async (file) => {
    const bundle = await loadBundleFile(path.join(DIST, file), DEFAULT_BUNDLE_LIMITS);
    const original = loadPolicySync(new WebAssembly.Module(bundle.wasm) as never, { initial: 16, maximum: 1024 });
    const counted = loadPolicySync(new WebAssembly.Module(instrumentSteps(bundle.wasm)) as never, { initial: 16, maximum: 1024 });
    original.setData(bundle.data ?? {});
    counted.setData(bundle.data ?? {});
    const entrypoints = Object.entries(original.entrypoints as Record<string, number>);
    expect(entrypoints.length).toBeGreaterThan(0);
    for (const [, id] of entrypoints) {
      for (const input of inputs) {
        let expected: unknown;
        try {
          expected = original.evaluate(input, id);
        } catch (err) {
          expect(() => counted.evaluate(input, id)).toThrow(String(err instanceof Error ? err.message : err));
          continue;
        }
        expect(counted.evaluate(input, id)).toEqual(expected);
      }
    }
  });
});

describe('PolicyEngine.withinSteps', () => {
  let engine: PolicyEngine;
  let misbehaving: PolicyEngine;
  beforeAll(async () => {
    engine = await PolicyEngine.load(path.join(DIST, 'dockgate.tar.gz'), { entrypoint: 'dockgate/admission/decision' });
    misbehaving = await PolicyEngine.load(path.join(DIST, 'test-misbehaving.tar.gz'), { entrypoint: 'dockgate/test/misbehaving/decision' });
  });

  it('decides within a budget as without one; one step fewer than needed stops it, every time', () => {
    const input = containerCreate();
    const expected = decide(engine, input);
    expect(engine.stepless).toBeUndefined();
    const within = (steps: number) => engine.withinSteps(steps, () => decide(engine, input));
    let needed = 1;
    while (!succeeds(() => within(needed))) needed *= 2;
    let low = needed / 2;
    while (low + 1 < needed) {
      const mid = Math.floor((low + needed) / 2);
      if (succeeds(() => within(mid))) needed = mid;
      else low = mid;
    }
    expect(within(needed)).toEqual(expected);
    expect(() => within(needed - 1)).toThrow(StepsExhausted);
    expect(within(needed)).toEqual(expected); // the same count again: deterministic, the engine intact
    expect(decide(engine, input)).toEqual(expected); // outside withinSteps: uncounted
  });

  it('stops a spinning policy within its budget; the engine then decides the next input', () => {
    const spin = containerCreate({ Labels: { 'dockgate.test/misbehave': 'spin' } });
    const started = performance.now();
    expect(() => misbehaving.withinSteps(50_000, () => misbehaving.evaluate(spin))).toThrow(StepsExhausted);
    expect(performance.now() - started).toBeLessThan(30_000); // unbounded, it runs for minutes
    expect(misbehaving.evaluate(containerCreate()).allowed).toBe(true);
  });

  it('a policy failure inside the budget is that failure, not StepsExhausted', () => {
    const boom = containerCreate({ Labels: { 'dockgate.test/misbehave': 'throw' } });
    let thrown: unknown;
    try {
      misbehaving.withinSteps(1_000_000, () => misbehaving.evaluate(boom));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeDefined();
    expect(thrown).not.toBeInstanceOf(StepsExhausted);
  });
});

function succeeds(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (err instanceof StepsExhausted) return false;
    throw err;
  }
}
