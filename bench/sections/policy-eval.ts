// 2b. The decision itself: dockgate's in-process wasm engine (src/policy/engine.ts) against OPA
// run as a REST sidecar with the same Rego, on the input dockgate builds for a typical container
// create. The sidecar figure is what a caller pays per decision: serialize the input, POST
// /v1/data/<entrypoint> on a keep-alive unix-socket connection, parse the answer.
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { PolicyEngine } from '../../src/policy/engine.js';
import { createInput, typicalCreateBody } from '../bodies.js';
import type { BenchEnv } from '../environment.js';
import { atMost, fmtRatio, fmt, newSection, roundsFigure, type Section } from '../figures.js';
import { keepAliveAgent, send } from '../http-client.js';
import { startOpa } from '../opa.js';
import { REPO_ROOT } from '../repo.js';
import { Samples, msSince } from '../stats.js';

const WASM = 'in-process wasm';
const OPA = 'OPA REST sidecar';
// A yardstick for the machine, not a peer: V8's own JSON.parse of the same input, timed right
// after each in-process batch. On this shared machine the speed of memory-bound work moves by up
// to 2× for seconds at a time with no load or steal to show for it (bench/FINDINGS.md, "Policy
// decision"); JSON.parse moves with it, so the ratio tells dockgate's engine from the machine.
const REF = 'V8 JSON.parse of the input (reference)';

interface OpaAnswer {
  result?: { allowed: boolean; violations?: unknown[]; patch?: unknown[] };
}

export async function policyEval(env: BenchEnv): Promise<Section> {
  const { opts, policy } = env;
  const engine = await PolicyEngine.load(policy.file, { entrypoint: policy.entrypoint });
  const opa = await startOpa(env.workDir, policy.file);
  env.onTeardown(() => opa.process.stop());
  const section = newSection(
    'eval',
    '2b. Policy decision: in-process wasm vs OPA sidecar',
    `One decision on a typical container-create input (${policy.entrypoint}). In-process: PolicyEngine.evaluate() in the benchmark process, timed per call. Sidecar: \`opa run --server\` (${env.machine.opa}) loaded with the same Rego (${opa.sourceDirs.map((d) => `${path.relative(REPO_ROOT, d)}/`).join(' + ')}, the sources of the bundle), JSON.stringify + POST + JSON.parse per call over one keep-alive unix-socket connection. Batches alternate; min / median / max over rounds. Reference (not a peer): JSON.parse of the same input's JSON text, timed per call in a batch right after each in-process batch — V8's own code, whose time follows the machine's speed at that moment.`,
    [WASM, OPA, REF],
  );
  const agent = keepAliveAgent();
  env.onTeardown(async () => agent.destroy());
  const input = createInput(typicalCreateBody(env.image));
  const inputText = JSON.stringify(input);
  const opaPath = `/v1/data/${policy.entrypoint}`;

  const askOpa = async (): Promise<{ ms: number; answer: OpaAnswer }> => {
    const start = process.hrtime.bigint();
    const res = await send(opa.socketPath, agent, 'POST', opaPath, {
      body: JSON.stringify({ input }),
      headers: { 'Content-Type': 'application/json' },
      collect: true,
    });
    if (res.status !== 200) throw new Error(`OPA ${opaPath}: HTTP ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
    const answer = JSON.parse(res.body.toString('utf8')) as OpaAnswer;
    return { ms: msSince(start), answer };
  };

  // Both must reach the same decision, or the comparison is of two different things.
  const wasmDecision = engine.evaluate(input);
  const { answer } = await askOpa();
  if (
    !answer.result ||
    answer.result.allowed !== wasmDecision.allowed ||
    !isDeepStrictEqual(answer.result.violations ?? [], wasmDecision.violations) ||
    !isDeepStrictEqual(answer.result.patch ?? [], wasmDecision.patch)
  ) {
    throw new Error(`OPA and the wasm engine disagree: wasm ${JSON.stringify(wasmDecision)}; OPA ${JSON.stringify(answer)}`);
  }
  section.notes.push(`Both engines return the same decision for the input: allowed=${wasmDecision.allowed}, ${wasmDecision.violations.length} violation(s), ${wasmDecision.patch.length} patch operation(s).`);

  const wasmBatch = opts.quick ? 1000 : 3000;
  const opaBatch = opts.quick ? 150 : 400;
  // A batch of synchronous calls, each timed (µs).
  const timedBatch = (call: () => unknown, s: Samples | null) => {
    for (let i = 0; i < wasmBatch; i++) {
      const start = process.hrtime.bigint();
      call();
      s?.add(msSince(start) * 1000);
    }
  };
  const runWasm = (s: Samples | null) => timedBatch(() => engine.evaluate(input), s);
  const runRef = (s: Samples) => timedBatch(() => JSON.parse(inputText), s);
  const runOpa = async (s: Samples | null) => {
    for (let i = 0; i < opaBatch; i++) s?.add((await askOpa()).ms * 1000);
  };
  runWasm(null);
  await runOpa(null);

  const p50: Record<string, number[]> = { [WASM]: [], [OPA]: [], [REF]: [] };
  const p99: Record<string, number[]> = { [WASM]: [], [OPA]: [], [REF]: [] };
  for (let round = 0; round < opts.rounds; round++) {
    const w = new Samples();
    const o = new Samples();
    const r = new Samples();
    if (round % 2 === 0) {
      runWasm(w);
      runRef(r);
      await runOpa(o);
    } else {
      await runOpa(o);
      runWasm(w);
      runRef(r);
    }
    for (const [name, samples] of [[WASM, w], [OPA, o], [REF, r]] as const) {
      p50[name]!.push(samples.percentile(50));
      p99[name]!.push(samples.percentile(99));
    }
  }
  const ratios = [[WASM, OPA], [WASM, REF]] as const;
  const f50 = roundsFigure('decision p50', 'µs', p50, ratios);
  const f99 = roundsFigure('decision p99', 'µs', p99, ratios);
  const w50 = f50.values[WASM]!.median;
  const w99 = f99.values[WASM]!.median;
  const r50 = f50.ratios[`${WASM} / ${OPA}`]!.median;
  f50.targets.push(atMost('in-process p50 ≤ 50 µs', w50, 50, fmt(w50, 'µs')));
  f50.targets.push(atMost('≤ 0.25× the OPA sidecar (p50)', r50, 0.25, fmtRatio(r50)));
  f99.targets.push(atMost('in-process p99 ≤ 200 µs', w99, 200, fmt(w99, 'µs')));
  section.figures.push(f50, f99);
  section.notes.push(`${wasmBatch} in-process evaluations, ${wasmBatch} reference parses and ${opaBatch} sidecar requests per round, ${opts.rounds} rounds.`);
  return section;
}
