// 2a. Admission: container create (then delete) under the policy. The peers take turns request
// by request (the daemon's own create time drifts as its state changes, so pairing each
// dockgate create with a direct one right next to it is what makes a sub-millisecond
// difference measurable). dockgate canonicalizes the body, evaluates the policy and forwards
// the canonical bytes; a delete also looks the container up first.
import { privilegedCreateBody, typicalCreateBody } from '../bodies.js';
import { API } from '../engine-objects.js';
import { PEERS, rotated, type BenchEnv, type PeerName } from '../environment.js';
import { atMost, fmt, info, newSection, roundsFigure, type Section } from '../figures.js';
import { send, sendExpect } from '../http-client.js';
import { Samples, spread } from '../stats.js';

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
  const { opts } = env;
  const section = newSection(
    'admission',
    '2. Admission latency (container create + delete)',
    `POST ${API}/containers/create with a typical 1.8 KB docker CLI body, then DELETE ?force=1, each through the same peer on one keep-alive connection. Peers alternate request by request (order rotating); p50/p99 per round, min / median / max over rounds. "Added" = dockgate minus direct within the round.`,
    [...PEERS],
  );
  const denial = await checkPolicyEnforced(env);
  section.notes.push(`Policy enforced: a --privileged create through dockgate was refused (${denial}).`);

  const body = JSON.stringify(typicalCreateBody(env.image));
  const perRound = opts.quick ? 10 : 30;
  const create = { p50: { direct: [], HAProxy: [], dockgate: [] } as Record<PeerName, number[]>, p99: { direct: [], HAProxy: [], dockgate: [] } as Record<PeerName, number[]> };
  const remove = { p50: { direct: [], HAProxy: [], dockgate: [] } as Record<PeerName, number[]>, p99: { direct: [], HAProxy: [], dockgate: [] } as Record<PeerName, number[]> };

  const once = async (peer: PeerName, c: Samples | null, d: Samples | null) => {
    const { socketPath, agent } = env.peers[peer];
    const created = await sendExpect(socketPath, agent, 'POST', `${API}/containers/create`, [201], { body, headers: JSON_HEADERS });
    const id = (JSON.parse(created.body.toString('utf8')) as { Id: string }).Id;
    const deleted = await sendExpect(socketPath, agent, 'DELETE', `${API}/containers/${id}?force=1`, [204]);
    c?.add(created.ms);
    d?.add(deleted.ms);
  };
  for (let i = 0; i < 5; i++) for (const peer of PEERS) await once(peer, null, null); // warm-up

  for (let round = 0; round < opts.rounds; round++) {
    const c: Record<PeerName, Samples> = { direct: new Samples(), HAProxy: new Samples(), dockgate: new Samples() };
    const d: Record<PeerName, Samples> = { direct: new Samples(), HAProxy: new Samples(), dockgate: new Samples() };
    for (let i = 0; i < perRound; i++) {
      for (const peer of rotated(PEERS, round * perRound + i)) await once(peer, c[peer], d[peer]);
    }
    for (const peer of PEERS) {
      create.p50[peer].push(c[peer].percentile(50));
      create.p99[peer].push(c[peer].percentile(99));
      remove.p50[peer].push(d[peer].percentile(50));
      remove.p99[peer].push(d[peer].percentile(99));
    }
  }

  const ratios = [['dockgate', 'direct'], ['HAProxy', 'direct'], ['dockgate', 'HAProxy']] as const;
  const added = (m: Record<PeerName, number[]>) => spread(m.dockgate.map((v, i) => v - m.direct[i]!));
  const c50 = roundsFigure('create p50', 'ms', create.p50, ratios);
  const c99 = roundsFigure('create p99', 'ms', create.p99, ratios);
  const addedC50 = added(create.p50);
  const addedC99 = added(create.p99);
  c50.targets.push(atMost('dockgate adds ≤ 0.5 ms at p50', addedC50.median, 0.5, `+${fmt(addedC50.median, 'ms')} (rounds: ${fmt(addedC50.min)} … ${fmt(addedC50.max)})`));
  c99.targets.push(info('added at p99', `+${fmt(addedC99.median, 'ms')} (rounds: ${fmt(addedC99.min)} … ${fmt(addedC99.max)})`));
  const d50 = roundsFigure('delete p50', 'ms', remove.p50, ratios);
  const d99 = roundsFigure('delete p99', 'ms', remove.p99, ratios);
  const addedD50 = added(remove.p50);
  d50.targets.push(info('added at p50', `+${fmt(addedD50.median, 'ms')} (includes dockgate's inspect lookup)`));
  section.figures.push(c50, c99, d50, d99);
  section.notes.push(`${perRound} create+delete pairs per peer per round, ${opts.rounds} rounds.`);
  return section;
}
