// 5. Scaling: what dockgate adds to a container create as the body grows (1 KB → 1 MB of
// labels) and as the policy grows (10 → 200 generated deny rules, built with the pinned opa).
// Each point pairs dockgate and direct creates request by request, over a few rounds.
import { statSync } from 'node:fs';
import path from 'node:path';
import { PolicyEngine } from '../../src/policy/engine.js';
import { createInput, paddedCreateBody, typicalCreateBody } from '../bodies.js';
import { startDockgate } from '../dockgate.js';
import { API } from '../engine-objects.js';
import type { BenchEnv } from '../environment.js';
import { fmt, newSection, type Section } from '../figures.js';
import { keepAliveAgent, sendExpect } from '../http-client.js';
import { buildScaledBundle, SCALED_ENTRYPOINT } from '../rego-gen.js';
import { Samples, msSince, spread, type Spread } from '../stats.js';

const JSON_HEADERS = { 'Content-Type': 'application/json' };

interface Paired {
  direct: number;
  dockgate: number;
  added: Spread;
}

/** Create+delete through direct and `dgSocket` alternately; p50 per round, then over rounds. */
async function pairedCreates(env: BenchEnv, dgSocket: string, body: string, rounds: number, perRound: number): Promise<Paired> {
  const agents = { direct: env.peers.direct.agent, dockgate: keepAliveAgent() };
  const sockets = { direct: env.daemonSocket, dockgate: dgSocket };
  const once = async (who: 'direct' | 'dockgate') => {
    const res = await sendExpect(sockets[who], agents[who], 'POST', `${API}/containers/create`, [201], { body, headers: JSON_HEADERS });
    const id = (JSON.parse(res.body.toString('utf8')) as { Id: string }).Id;
    await sendExpect(sockets[who], agents[who], 'DELETE', `${API}/containers/${id}?force=1`, [204]);
    return res.ms;
  };
  await once('direct');
  await once('dockgate');
  const d: number[] = [];
  const g: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const sd = new Samples();
    const sg = new Samples();
    for (let i = 0; i < perRound; i++) {
      const order = (r + i) % 2 === 0 ? (['direct', 'dockgate'] as const) : (['dockgate', 'direct'] as const);
      for (const who of order) (who === 'direct' ? sd : sg).add(await once(who));
    }
    d.push(sd.percentile(50));
    g.push(sg.percentile(50));
  }
  agents.dockgate.destroy();
  return { direct: spread(d).median, dockgate: spread(g).median, added: spread(g.map((v, i) => v - d[i]!)) };
}

function evalTimes(engine: PolicyEngine, input: ReturnType<typeof createInput>, n: number): { p50: number; p99: number } {
  for (let i = 0; i < Math.min(50, n); i++) engine.evaluate(input);
  const s = new Samples();
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    engine.evaluate(input);
    s.add(msSince(start) * 1000);
  }
  return { p50: s.percentile(50), p99: s.percentile(99) };
}

const addedCell = (a: Spread) => `${fmt(a.median)} (${fmt(a.min)} … ${fmt(a.max)})`;

export async function scaling(env: BenchEnv): Promise<Section> {
  const { opts } = env;
  const rounds = opts.quick ? 2 : 3;
  const perRound = Math.max(2, Math.round(opts.scalingIterations / rounds));
  const section = newSection(
    'scaling',
    '5. Scaling with body size and policy size',
    `Container create + delete, dockgate and direct alternating request by request, ${perRound} pairs per round, ${rounds} rounds; "added" = dockgate p50 − direct p50 within a round, shown as median (min … max) over rounds, in ms. In-process evaluation times are PolicyEngine.evaluate() in the benchmark process. RSS is dockgate's VmRSS right after the point (MiB).`,
    [],
  );

  // (a) body size, with the benchmark's policy on the long-running dockgate.
  const engine = await PolicyEngine.load(env.policy.file, { entrypoint: env.policy.entrypoint });
  const bodyRows = ['| create body | direct p50 (ms) | dockgate p50 (ms) | added p50 (ms) | policy eval p50 / p99 (µs) | dockgate RSS (MiB) |', '|---|---|---|---|---|---|'];
  for (const size of opts.bodySizes) {
    const body = paddedCreateBody(env.image, size);
    const paired = await pairedCreates(env, env.dockgate.socketPath, body, rounds, perRound);
    const ev = evalTimes(engine, createInput(JSON.parse(body)), size >= 100_000 ? 100 : 500);
    bodyRows.push(`| ${body.length.toLocaleString('en-US')} B | ${fmt(paired.direct)} | ${fmt(paired.dockgate)} | ${addedCell(paired.added)} | ${fmt(ev.p50)} / ${fmt(ev.p99)} | ${fmt(env.dockgate.memory().rssMiB)} |`);
  }
  section.extra.push(`**By body size** (policy: ${env.policy.description})`, '', ...bodyRows, '');

  // (b) policy size: a dockgate per generated bundle, the typical create body.
  const typical = JSON.stringify(typicalCreateBody(env.image));
  const input = createInput(JSON.parse(typical));
  const policyRows = ['| deny rules | bundle (.tar.gz) | opa build (s) | policy eval p50 / p99 (µs) | direct p50 (ms) | dockgate p50 (ms) | added p50 (ms) | start-up (ms) | dockgate RSS (MiB) |', '|---|---|---|---|---|---|---|---|---|'];
  const dir = path.join(env.workDir, 'scaled-policies');
  for (const rules of opts.policySizes) {
    const started = process.hrtime.bigint();
    const bundle = buildScaledBundle(dir, rules);
    const buildSeconds = msSince(started) / 1000;
    const scaled = await PolicyEngine.load(bundle, { entrypoint: SCALED_ENTRYPOINT });
    const decision = scaled.evaluate(input);
    if (!decision.allowed) throw new Error(`the generated ${rules}-rule policy denies the benchmark body: ${JSON.stringify(decision.violations)}`);
    const ev = evalTimes(scaled, input, 2000);
    const dg = await startDockgate({ daemonSocket: env.daemonSocket, policy: bundle, entrypoint: SCALED_ENTRYPOINT, workDir: env.workDir });
    try {
      const paired = await pairedCreates(env, dg.socketPath, typical, rounds, perRound);
      policyRows.push(
        `| ${rules} | ${fmt(statSync(bundle).size / 1024)} KiB | ${fmt(buildSeconds)} | ${fmt(ev.p50)} / ${fmt(ev.p99)} | ${fmt(paired.direct)} | ${fmt(paired.dockgate)} | ${addedCell(paired.added)} | ${fmt(dg.startupMs)} | ${fmt(dg.memory().rssMiB)} |`,
      );
    } finally {
      await dg.stop();
    }
  }
  section.extra.push('**By policy size** (generated Rego: N deny rules over labels, env, image, capabilities, binds, memory and security options; none fires on the body, so all are evaluated)', '', ...policyRows, '');
  return section;
}
