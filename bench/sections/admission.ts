// 2a. Admission: container create (then delete) under the policy. The peers take turns request
// by request (the daemon's own create time drifts as its state changes, so pairing each
// dockgate create with a direct one right next to it is what makes a sub-millisecond
// difference measurable). dockgate canonicalizes the body, evaluates the policy and forwards
// the canonical bytes; a delete also looks the container up first.
//
// References, not peers: the bare node:http proxy (the floor of any proxy on node:http), the Node
// byte relay (the floor of any proxy written for Node: bytes copied, nothing parsed), and two more
// dockgates: one that makes every decision in a worker thread (policyInlineSteps: 0), as dockgate
// did before decisions ran on the event loop within a step budget (what that costs), and one with
// a policy that allows everything and changes nothing (what the pipeline costs without the
// policy's own work: one small evaluation instead of two rounds of the baseline's rules). And the
// best case for an admission proxy in Node (bench/best-case-proxy.ts: raw sockets, the same policy
// engine and decide(), nothing else): what any Node proxy that evaluates this policy adds here.
import type http from 'node:http';
import { privilegedCreateBody, typicalCreateBody } from '../bodies.js';
import { startDockgate, type DockgateOptions } from '../dockgate.js';
import { API } from '../engine-objects.js';
import { PEERS, rotated, type BenchEnv } from '../environment.js';
import { atMost, fmt, fmtSigned, info, newSection, roundsFigure, type Section } from '../figures.js';
import { keepAliveAgent, send, sendExpect } from '../http-client.js';
import { BARE, BEST_CASE, REFERENCES, RELAY, startBestCaseProxy } from '../reference-proxy.js';
import { ALLOW_ALL_BUNDLE } from '../repo.js';
import { Samples, spread, type Spread } from '../stats.js';

const WORKER = 'dockgate, decisions in a worker';
const ALLOW_ALL = 'dockgate, allow-all policy';
const VARIANTS = [WORKER, ALLOW_ALL] as const;
const COLUMNS = [...PEERS, ...REFERENCES, BEST_CASE, ...VARIANTS] as const;
type Column = (typeof COLUMNS)[number];

const JSON_HEADERS = { 'Content-Type': 'application/json' };

export async function checkPolicyEnforced(env: BenchEnv): Promise<string> {
  const dg = env.peers.dockgate;
  const res = await send(dg.socketPath, dg.agent, 'POST', `${API}/containers/create`, {
    body: JSON.stringify(privilegedCreateBody(env.image)),
    headers: JSON_HEADERS,
    collect: true,
  });
  if (res.status === 201) throw new Error('dockgate let a privileged container create through: the policy is not enforced, figures would be meaningless');
  return `HTTP ${res.status}: ${res.body.toString('utf8').trim().slice(0, 160)}`;
}

export async function admission(env: BenchEnv): Promise<Section> {
  const section = newSection(
    'admission',
    '2. Admission latency (container create + delete)',
    `POST ${API}/containers/create with a typical 1.8 KB docker CLI body, then DELETE ?force=1, each through the same peer on one keep-alive connection. Peers alternate request by request (order rotating); p50/p99 per round, min / median / max over rounds. "Added" = dockgate minus direct within the round. References, not peers: "${BARE}" and "${RELAY}" (the floors of section 1: of a proxy on node:http, and of any proxy written for Node); "${BEST_CASE}", the least an admission proxy in Node can do for a create (bench/best-case-proxy.ts: a raw \`net\` server and client, the body read with JSON.parse and judged by dockgate's own policy engine and decide() with the same policy, every mutation round, forwarded in one write; nothing else); "${WORKER}", a second dockgate with the same policy and \`policyInlineSteps: 0\`: every decision in a decision worker thread instead of on the event loop within its step budget; "${ALLOW_ALL}", a third with policy/dist/test-allow-all.tar.gz (allows everything, patches nothing): dockgate's pipeline without the policy's work.`,
    [...COLUMNS],
  );
  const base = { daemonSocket: env.daemonSocket, workDir: env.workDir };
  // Each proxy started for this section, with its keep-alive client: both go at the section's end.
  const stops: (() => Promise<void>)[] = [];
  const own = (socketPath: string, stop: () => Promise<void>) => {
    const agent = keepAliveAgent();
    stops.push(async () => {
      agent.destroy();
      await stop();
    });
    return { socketPath, agent };
  };
  const variant = async (o: Omit<DockgateOptions, keyof typeof base>) => {
    const dg = await startDockgate({ ...base, ...o });
    return own(dg.socketPath, () => dg.stop());
  };
  try {
    const bestCase = await startBestCaseProxy(env.workDir, env.daemonSocket, env.policy);
    const targets: Record<Column, { socketPath: string; agent: http.Agent }> = {
      ...env.peers,
      ...env.references,
      [BEST_CASE]: own(bestCase.socketPath, () => bestCase.process.stop()),
      [WORKER]: await variant({ policy: env.policy.file, entrypoint: env.policy.entrypoint, config: 'policyInlineSteps: 0\n' }),
      [ALLOW_ALL]: await variant({ policy: ALLOW_ALL_BUNDLE.file, entrypoint: ALLOW_ALL_BUNDLE.entrypoint }),
    };
    await measure(env, section, targets);
  } finally {
    for (const stop of stops) await stop();
  }
  return section;
}

async function measure(env: BenchEnv, section: Section, targets: Record<Column, { socketPath: string; agent: http.Agent }>): Promise<void> {
  const { opts } = env;
  const denial = await checkPolicyEnforced(env);
  section.notes.push(`Policy enforced: a --privileged create through dockgate was refused (${denial}).`);

  const body = JSON.stringify(typicalCreateBody(env.image));
  const perRound = opts.quick ? 10 : 30;
  const perColumn = () => Object.fromEntries(COLUMNS.map((c) => [c, [] as number[]])) as Record<Column, number[]>;
  const create = { p50: perColumn(), p99: perColumn() };
  const remove = { p50: perColumn(), p99: perColumn() };

  const once = async (peer: Column, c: Samples | null, d: Samples | null) => {
    const { socketPath, agent } = targets[peer];
    const created = await sendExpect(socketPath, agent, 'POST', `${API}/containers/create`, [201], { body, headers: JSON_HEADERS });
    const id = (JSON.parse(created.body.toString('utf8')) as { Id: string }).Id;
    const deleted = await sendExpect(socketPath, agent, 'DELETE', `${API}/containers/${id}?force=1`, [204]);
    c?.add(created.ms);
    d?.add(deleted.ms);
  };
  for (let i = 0; i < 5; i++) for (const peer of COLUMNS) await once(peer, null, null); // warm-up

  for (let round = 0; round < opts.rounds; round++) {
    const samples = () => Object.fromEntries(COLUMNS.map((col) => [col, new Samples()])) as Record<Column, Samples>;
    const c = samples();
    const d = samples();
    for (let i = 0; i < perRound; i++) {
      for (const peer of rotated(COLUMNS, round * perRound + i)) await once(peer, c[peer], d[peer]);
    }
    for (const peer of COLUMNS) {
      create.p50[peer].push(c[peer].percentile(50));
      create.p99[peer].push(c[peer].percentile(99));
      remove.p50[peer].push(d[peer].percentile(50));
      remove.p99[peer].push(d[peer].percentile(99));
    }
  }

  const ratios = [['dockgate', 'direct'], ['HAProxy', 'direct'], ['dockgate', 'HAProxy']] as const;
  // Round by round: how much longer `col` took than `than`.
  const difference = (m: Record<Column, number[]>, col: Column, than: Column) => spread(m[col].map((v, i) => v - m[than][i]!));
  const added = (m: Record<Column, number[]>, col: Column = 'dockgate') => difference(m, col, 'direct');
  const addedText = (d: Spread) => `${fmtSigned(d.median, 'ms')} (rounds: ${fmt(d.min)} … ${fmt(d.max)})`;
  const c50 = roundsFigure('create p50', 'ms', create.p50, ratios);
  const c99 = roundsFigure('create p99', 'ms', create.p99, ratios);
  const addedC50 = added(create.p50);
  c50.targets.push(atMost('dockgate adds ≤ 0.5 ms at p50', addedC50.median, 0.5, addedText(addedC50)));
  for (const v of VARIANTS) c50.targets.push(info(`${v} adds`, addedText(added(create.p50, v))));
  for (const ref of [BEST_CASE, ...REFERENCES] as const) c50.targets.push(info(`${ref} adds`, addedText(added(create.p50, ref))));
  const saved = difference(create.p50, WORKER, 'dockgate');
  section.notes.push(`Decisions on the event loop within the step budget (dockgate as shipped) against every decision in a worker (${WORKER}): ${fmt(saved.median, 'ms')} less per create at p50 (median of rounds; rounds ${fmt(saved.min)} … ${fmt(saved.max)}).`);
  const policyShare = difference(create.p50, 'dockgate', ALLOW_ALL);
  const pipelineShare = difference(create.p50, ALLOW_ALL, RELAY);
  section.notes.push(`Where dockgate's added time goes, at p50 (medians of rounds): the baseline policy's own work (dockgate − ${ALLOW_ALL}) ${fmtSigned(policyShare.median, 'ms')} (rounds ${fmt(policyShare.min)} … ${fmt(policyShare.max)}); the pipeline around a trivial policy (${ALLOW_ALL} − ${RELAY}) ${fmtSigned(pipelineShare.median, 'ms')} (rounds ${fmt(pipelineShare.min)} … ${fmt(pipelineShare.max)}); one more hop in Node (${RELAY} − direct) ${fmtSigned(added(create.p50, RELAY).median, 'ms')}; beside that, the least any Node proxy that evaluates this policy adds (${BEST_CASE} − direct) ${fmtSigned(added(create.p50, BEST_CASE).median, 'ms')}, and dockgate over it ${fmtSigned(difference(create.p50, 'dockgate', BEST_CASE).median, 'ms')}.`);
  c99.targets.push(info('added at p99', addedText(added(create.p99))));
  const d50 = roundsFigure('delete p50', 'ms', remove.p50, ratios);
  const d99 = roundsFigure('delete p99', 'ms', remove.p99, ratios);
  const addedD50 = added(remove.p50);
  d50.targets.push(info('added at p50', `${fmtSigned(addedD50.median, 'ms')} (includes dockgate's inspect lookup)`));
  section.figures.push(c50, c99, d50, d99);
  section.notes.push(`${perRound} create+delete pairs per peer per round, ${opts.rounds} rounds.`);
}
