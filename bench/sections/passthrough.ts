// 1. Passthrough latency: one client, one keep-alive connection, requests back to back, the
// peers taking turns round by round. dockgate judges these too (every request goes through the
// policy), so this is the proxy's whole fixed cost.
import type http from 'node:http';
import { createContainer } from '../engine-objects.js';
import { PEERS, rotated, type BenchEnv } from '../environment.js';
import { atMost, fmt, fmtRatio, info, newSection, roundsFigure, type Section } from '../figures.js';
import { send } from '../http-client.js';
import { BARE, REFERENCES, RELAY } from '../reference-proxy.js';
import { Samples } from '../stats.js';

// With reference columns: the floors of a proxy built on node:http and of any proxy in Node.
const COLUMNS = [...PEERS, ...REFERENCES] as const;
type Column = (typeof COLUMNS)[number];

interface Target {
  socketPath: string;
  agent: http.Agent;
}

interface Endpoint {
  label: string;
  path: string;
  requests: number;
}

async function runBatch(target: Target, path: string, n: number, into: Samples | null): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await send(target.socketPath, target.agent, 'GET', path);
    if (res.status !== 200) throw new Error(`GET ${path} via ${target.socketPath}: HTTP ${res.status}`);
    into?.add(res.ms);
  }
}

export async function passthrough(env: BenchEnv): Promise<Section> {
  const { opts } = env;
  const section = newSection(
    'passthrough',
    '1. Passthrough latency',
    `Sequential keep-alive requests from one client (node:http over the unix socket). Per round each peer serves a batch; the batch order rotates every round. p50/p99 are per round; the table shows min / median / max over rounds, and ratios are taken within each round. "${BARE}" is a reference, not a peer: a 20-line keep-alive node:http proxy with no policy and no logging (bench/bare-proxy.ts), the floor for any proxy on node:http; "${RELAY}" is another: a daemon connection per client connection and the bytes copied both ways, nothing parsed (bench/byte-relay.ts), the floor for any proxy written for Node.`,
    [...COLUMNS],
  );
  const targets: Record<Column, Target> = { ...env.peers, ...env.references };
  // A realistic list: a few containers for /containers/json to describe (created, not running).
  for (let i = 0; i < 5; i++) {
    await createContainer(env.daemonSocket, false, { Image: env.image, Cmd: ['true'], Labels: { 'dockgate.test': '1', bench: 'list' } });
  }
  const endpoints: Endpoint[] = [
    { label: 'GET /_ping', path: '/_ping', requests: opts.quick ? 200 : 500 },
    { label: 'GET /containers/json', path: '/v1.41/containers/json?all=1', requests: opts.quick ? 100 : 250 },
  ];
  for (const ep of endpoints) {
    // Warm-up: enough requests for the JIT to settle in the Node peers.
    for (const col of COLUMNS) await runBatch(targets[col], ep.path, ep.requests * 2, null);
    const p50 = Object.fromEntries(COLUMNS.map((c) => [c, [] as number[]])) as Record<Column, number[]>;
    const p99 = Object.fromEntries(COLUMNS.map((c) => [c, [] as number[]])) as Record<Column, number[]>;
    for (let round = 0; round < opts.rounds; round++) {
      for (const col of rotated(COLUMNS, round)) {
        const s = new Samples();
        await runBatch(targets[col], ep.path, ep.requests, s);
        p50[col].push(s.percentile(50));
        p99[col].push(s.percentile(99));
      }
    }
    const ratios = [['dockgate', 'HAProxy'], ['dockgate', 'direct'], ['HAProxy', 'direct'], ['dockgate', BARE], [BARE, 'HAProxy'], [RELAY, 'HAProxy']] as const;
    const f50 = roundsFigure(`${ep.label} p50`, 'ms', p50, ratios);
    const f99 = roundsFigure(`${ep.label} p99`, 'ms', p99, ratios);
    const r50 = f50.ratios['dockgate / HAProxy']!.median;
    const r99 = f99.ratios['dockgate / HAProxy']!.median;
    f50.targets.push(atMost('p50 ≤ 1.25× HAProxy', r50, 1.25, fmtRatio(r50)));
    f99.targets.push(atMost('p99 ≤ 1.5× HAProxy', r99, 1.5, fmtRatio(r99)));
    const floor = f50.ratios[`${BARE} / HAProxy`]!.median;
    f50.targets.push(info('floor: bare node:http proxy vs HAProxy (p50)', fmtRatio(floor)));
    f50.targets.push(info('floor: Node byte relay vs HAProxy (p50)', fmtRatio(f50.ratios[`${RELAY} / HAProxy`]!.median)));
    section.figures.push(f50, f99);
    const median = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
    const added = median(p50.dockgate.map((v, i) => (v - p50.direct[i]!) * 1000));
    const overBare = median(p50.dockgate.map((v, i) => (v - p50[BARE][i]!) * 1000));
    section.notes.push(`${ep.label}: at p50 dockgate adds ${fmt(added, 'µs')} over direct, of which ${fmt(overBare, 'µs')} over the bare node:http proxy (medians of rounds); ${ep.requests} requests per peer per round.`);
  }
  return section;
}
