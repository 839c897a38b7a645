// 4. Concurrency: (a) hundreds of attach / logs -f streams held open at once while containers
// write to them, and (b) hundreds of concurrent clients on a mix of everyday requests. Counted:
// errors, silent streams, throughput, and dockgate's resident memory while it carries the load.
import { startDockgate } from '../dockgate.js';
import { createContainer, runContainer, API } from '../engine-objects.js';
import { PEERS, rotated, type BenchEnv, type PeerName } from '../environment.js';
import { atMost, fmt, fmtMemory, fmtRatio, info, mibToMB, newSection, roundsFigure, type Section } from '../figures.js';
import { keepAliveAgent, send } from '../http-client.js';
import { readMemory } from '../processes.js';
import { Samples } from '../stats.js';
import { openStream, type HeldStream } from '../streams.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Samples a process's RSS every `everyMs` until stopped; resolves with the peak, in MiB. */
function watchRss(pid: number | undefined, everyMs = 200): { stop(): number } {
  let peak = Number.NaN;
  const sample = () => {
    if (pid === undefined) return;
    const { rssMiB } = readMemory(pid);
    if (!(rssMiB <= peak)) peak = rssMiB; // also replaces NaN
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** The section's peers: dockgate is a fresh process, so its memory reflects this load only. */
interface Peers {
  socket: Record<PeerName, string>;
  pid: Record<PeerName, number | undefined>;
}

interface StreamResult {
  openErrors: string[];
  /** Streams that delivered nothing while held, or failed while held. */
  silent: number;
  failed: number;
  deliveredMBps: number;
  peakRssMiB: number;
  openMs: number;
}

async function holdStreams(env: BenchEnv, peers: Peers, peer: PeerName, tickers: string[]): Promise<StreamResult> {
  const { opts } = env;
  const socketPath = peers.socket[peer];
  const rss = watchRss(peers.pid[peer]);
  const streams: HeldStream[] = [];
  const openErrors: string[] = [];
  const started = process.hrtime.bigint();
  // Opened 50 at a time: a client opening 500 streams in one burst would measure the listen backlog.
  for (let batch = 0; batch < opts.streams; batch += 50) {
    const opening: Promise<void>[] = [];
    for (let j = batch; j < Math.min(opts.streams, batch + 50); j++) {
      const kind = j % 2 === 0 ? 'logs' : 'attach';
      opening.push(
        openStream(socketPath, kind, tickers[j % tickers.length]!).then(
          (s) => void streams.push(s),
          (e: Error) => void openErrors.push(`${kind}: ${e.message}`),
        ),
      );
    }
    await Promise.all(opening);
  }
  const openMs = Number(process.hrtime.bigint() - started) / 1e6;
  await sleep(500);
  const before = streams.map((s) => s.bytes);
  const holdStart = process.hrtime.bigint();
  await sleep(opts.streamHoldMs);
  const heldMs = Number(process.hrtime.bigint() - holdStart) / 1e6;
  let delivered = 0;
  let silent = 0;
  let failed = 0;
  streams.forEach((s, i) => {
    delivered += s.bytes - before[i]!;
    if (s.error !== undefined) failed++;
    else if (s.bytes === before[i]) silent++;
  });
  const peakRssMiB = rss.stop();
  for (const s of streams) s.close();
  await sleep(1_000);
  return { openErrors, silent, failed, deliveredMBps: delivered / 1e6 / (heldMs / 1000), peakRssMiB, openMs };
}

interface MixedResult {
  requests: number;
  errors: string[];
  reqPerSec: number;
  p50: number;
  p99: number;
  peakRssMiB: number;
}

/** `clients` concurrent clients, one keep-alive connection each, on a mix of requests for `ms`. */
async function mixedLoad(env: BenchEnv, peers: Peers, peer: PeerName, inspectIds: string[]): Promise<MixedResult> {
  const { opts } = env;
  const socketPath = peers.socket[peer];
  const createBody = JSON.stringify({ Image: env.image, Cmd: ['true'], Labels: { 'dockgate.test': '1' } });
  const samples = new Samples();
  const errors: string[] = [];
  const rss = watchRss(peers.pid[peer]);
  const deadline = Date.now() + opts.clientsMs;
  const started = process.hrtime.bigint();
  const client = async (c: number) => {
    const agent = keepAliveAgent();
    try {
      for (let i = c; Date.now() < deadline; i++) {
        const op = i % 20;
        try {
          if (op < 6) await expect(send(socketPath, agent, 'GET', '/_ping'), 200);
          else if (op < 10) await expect(send(socketPath, agent, 'GET', `${API}/containers/json?all=1`), 200);
          else if (op < 14) await expect(send(socketPath, agent, 'GET', `${API}/containers/${inspectIds[i % inspectIds.length]}/json`), 200);
          else if (op < 16) await expect(send(socketPath, agent, 'GET', `${API}/version`), 200);
          else if (op < 18) await expect(send(socketPath, agent, 'GET', `${API}/images/json`), 200);
          else if (op < 19) await expect(send(socketPath, agent, 'GET', `${API}/volumes`), 200);
          else {
            const res = await expect(send(socketPath, agent, 'POST', `${API}/containers/create`, { body: createBody, headers: { 'Content-Type': 'application/json' }, collect: true }), 201);
            const id = (JSON.parse(res.body.toString('utf8')) as { Id: string }).Id;
            await expect(send(socketPath, agent, 'DELETE', `${API}/containers/${id}?force=1`), 204);
          }
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
    } finally {
      agent.destroy();
    }
  };
  const expect = async (p: ReturnType<typeof send>, status: number) => {
    const res = await p;
    if (res.status !== status) throw new Error(`HTTP ${res.status} (expected ${status})`);
    samples.add(res.ms);
    return res;
  };
  await Promise.all(Array.from({ length: opts.clients }, (_, c) => client(c)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    requests: samples.count,
    errors,
    reqPerSec: samples.count / seconds,
    p50: samples.percentile(50),
    p99: samples.percentile(99),
    peakRssMiB: rss.stop(),
  };
}

export async function concurrency(env: BenchEnv): Promise<Section> {
  const { opts } = env;
  const section = newSection(
    'concurrency',
    '4. Concurrency',
    `(a) ${opts.streams} streams at once per peer (half \`logs -f\`, half \`attach\` upgraded to a raw stream; 50 opened at a time), spread over 10 containers each printing a line every 200 ms, held ${opts.streamHoldMs / 1000} s. (b) ${opts.clients} concurrent clients, one keep-alive connection each, for ${opts.clientsMs / 1000} s per peer and round on a mix: 30% /_ping, 20% containers/json, 20% container inspect, 10% version, 10% images/json, 5% volumes, 5% create+delete. dockgate is a fresh process for this section (the same policy), so its memory reflects this load; RSS is VmRSS sampled every 200 ms (MiB).`,
    [...PEERS],
  );
  const tickers: string[] = [];
  for (let i = 0; i < 10; i++) {
    tickers.push(await runContainer(env.daemonSocket, env.image, 'i=0; while :; do echo tick-$i; i=$((i+1)); sleep 0.2; done'));
  }

  const dg = await startDockgate({ daemonSocket: env.daemonSocket, policy: env.policy.file, entrypoint: env.policy.entrypoint, workDir: env.workDir });
  env.onTeardown(() => dg.stop());
  const peers: Peers = {
    socket: { direct: env.daemonSocket, HAProxy: env.haproxy.socketPath, dockgate: dg.socketPath },
    pid: { direct: undefined, HAProxy: env.haproxy.process.pid, dockgate: dg.process.pid },
  };
  // A few requests first, so the idle figure is of a process that has served (as in 4b).
  for (let i = 0; i < 100; i++) await send(dg.socketPath, false, 'GET', '/_ping');
  await sleep(1_000);
  const rssBefore = dg.memory().rssMiB;

  // (a) streams: one pass per peer, dockgate first.
  const streamResults = {} as Record<PeerName, StreamResult>;
  for (const peer of ['dockgate', 'HAProxy', 'direct'] as const) streamResults[peer] = await holdStreams(env, peers, peer, tickers);
  const one = (pick: (r: StreamResult) => number) =>
    Object.fromEntries(PEERS.map((p) => [p, [pick(streamResults[p])]])) as Record<PeerName, number[]>;
  const problems = one((r) => r.openErrors.length + r.failed + r.silent);
  const fProblems = roundsFigure(`${opts.streams} streams: failed to open, broken or silent while held`, '', problems);
  const dgProblems = problems.dockgate[0]!;
  fProblems.targets.push(atMost('no errors (dockgate)', dgProblems, 0, String(dgProblems)));
  section.figures.push(fProblems);
  const fRate = roundsFigure(`${opts.streams} streams: output delivered`, 'MB/s', one((r) => r.deliveredMBps), [['dockgate', 'direct']]);
  section.figures.push(fRate);
  const fOpen = roundsFigure(`${opts.streams} streams: time to open all`, 'ms', one((r) => r.openMs), [['dockgate', 'direct'], ['dockgate', 'HAProxy']]);
  section.figures.push(fOpen);
  const fRss = roundsFigure(`${opts.streams} streams: peak RSS of the proxy`, 'MiB', { HAProxy: [streamResults.HAProxy.peakRssMiB], dockgate: [streamResults.dockgate.peakRssMiB] });
  const dgRss = streamResults.dockgate.peakRssMiB;
  fRss.targets.push(atMost(`dockgate ≤ 150 MB RSS at ${opts.streams} streams`, mibToMB(dgRss), 150, `${fmtMemory(dgRss)}; ${fmt(rssBefore, 'MiB')} before the streams`));
  section.figures.push(fRss);
  for (const p of PEERS) {
    const r = streamResults[p];
    if (r.openErrors.length > 0) section.notes.push(`${p}: ${r.openErrors.length} streams failed to open, e.g. ${r.openErrors[0]}`);
    if (r.failed + r.silent > 0) section.notes.push(`${p}: ${r.failed} streams broke and ${r.silent} stayed silent while held.`);
  }

  // (b) mixed requests from many clients, peers interleaved by round.
  const rounds = opts.quick ? 1 : 2;
  const rps = { direct: [], HAProxy: [], dockgate: [] } as Record<PeerName, number[]>;
  const p50 = { direct: [], HAProxy: [], dockgate: [] } as Record<PeerName, number[]>;
  const p99 = { direct: [], HAProxy: [], dockgate: [] } as Record<PeerName, number[]>;
  const errs = { direct: [], HAProxy: [], dockgate: [] } as Record<PeerName, number[]>;
  const rssPeak: number[] = [];
  const errorExamples: string[] = [];
  const inspectIds = [...tickers];
  for (let i = 0; i < 5; i++) inspectIds.push(await createContainer(env.daemonSocket, false, { Image: env.image, Cmd: ['true'], Labels: { 'dockgate.test': '1' } }));
  for (let round = 0; round < rounds; round++) {
    for (const peer of rotated(PEERS, round)) {
      const r = await mixedLoad(env, peers, peer, inspectIds);
      rps[peer].push(r.reqPerSec);
      p50[peer].push(r.p50);
      p99[peer].push(r.p99);
      errs[peer].push(r.errors.length);
      if (peer === 'dockgate') rssPeak.push(r.peakRssMiB);
      if (r.errors.length > 0) errorExamples.push(`${peer}: ${r.errors.length} errors, e.g. ${r.errors[0]}`);
    }
  }
  const ratios = [['dockgate', 'direct'], ['dockgate', 'HAProxy'], ['HAProxy', 'direct']] as const;
  const fRps = roundsFigure(`${opts.clients} clients: throughput`, 'req/s', rps, ratios);
  fRps.targets.push(info('dockgate vs direct', fmtRatio(fRps.ratios['dockgate / direct']!.median)));
  const fErr = roundsFigure(`${opts.clients} clients: errors`, '', errs);
  const dgErrors = errs.dockgate.reduce((a, b) => a + b, 0);
  fErr.targets.push(atMost('no errors (dockgate)', dgErrors, 0, String(dgErrors)));
  const fP50 = roundsFigure(`${opts.clients} clients: latency p50`, 'ms', p50, ratios);
  const fP99 = roundsFigure(`${opts.clients} clients: latency p99`, 'ms', p99, ratios);
  const fMem = roundsFigure(`${opts.clients} clients: peak RSS of dockgate`, 'MiB', { dockgate: rssPeak });
  fMem.targets.push(info('dockgate peak RSS', fmt(Math.max(...rssPeak), 'MiB')));
  section.figures.push(fRps, fErr, fP50, fP99, fMem);
  section.notes.push(...errorExamples);
  for (const id of tickers) await send(env.daemonSocket, false, 'DELETE', `${API}/containers/${id}?force=1`);
  await dg.stop();
  return section;
}
