// 4b. Start-up and idle memory: fresh dockgate processes, each timed from spawn to the first
// request it serves (GET /_ping, judged by the policy), then warmed with a few hundred requests;
// RSS is read a second later and again once the process has settled.
import { startDockgate } from '../dockgate.js';
import { API } from '../engine-objects.js';
import type { BenchEnv } from '../environment.js';
import { atMost, fmt, fmtMemory, info, mibToMB, newSection, roundsFigure, type Section } from '../figures.js';
import { keepAliveAgent, send } from '../http-client.js';
import { readMemory } from '../processes.js';
import { startReferenceProxy } from '../reference-proxy.js';
import { WORKER_IDLE_MS } from '../../src/admission/decision-pool.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function warmUp(socketPath: string): Promise<void> {
  const agent = keepAliveAgent();
  try {
    for (let j = 0; j < 100; j++) {
      for (const path of ['/_ping', `${API}/containers/json?all=1`, `${API}/version`]) {
        const res = await send(socketPath, agent, 'GET', path);
        if (res.status !== 200) throw new Error(`GET ${path} via ${socketPath}: HTTP ${res.status}`);
      }
    }
  } finally {
    agent.destroy();
  }
}

// Idle is the resting state, read once the process has settled: the decision pool stops its worker
// thread WORKER_IDLE_MS after its last evaluation (which, with the memo, comes early in the
// warm-up) and V8's memory reducer shrinks the heap a few seconds later. 15 s over the pool's idle
// time covers both; the RSS one second after the warm-up is reported as well.
const SETTLE_MS = WORKER_IDLE_MS + 15_000;

export async function startup(env: BenchEnv): Promise<Section> {
  const { opts } = env;
  const section = newSection(
    'startup',
    '4b. Start-up and idle memory (dockgate)',
    `${opts.startups} fresh \`dockgate serve\` processes with the benchmark's policy: time from spawn to the first answered GET /_ping (polled every 2 ms), then 300 requests (/_ping, containers/json, version), VmRSS 1 s later and once settled (${SETTLE_MS / 1000} s after the warm-up: the decision worker stops after ${WORKER_IDLE_MS / 1000} s without work). The processes are started one after another and stay up until the settled reading. Min / median / max over processes. Memory targets are read in MB (10^6 bytes); RSS is shown in MiB with MB alongside.`,
    ['dockgate'],
  );
  const startMs: number[] = [env.dockgate.startupMs];
  const afterWarmUp: number[] = [];
  const started: { stop(): Promise<void>; rss(): number; warmedAt: number }[] = [];
  try {
    for (let i = 0; i < opts.startups; i++) {
      const dg = await startDockgate({ daemonSocket: env.daemonSocket, policy: env.policy.file, entrypoint: env.policy.entrypoint, workDir: env.workDir });
      started.push({ stop: () => dg.stop(), rss: () => dg.memory().rssMiB, warmedAt: Number.NaN });
      startMs.push(dg.startupMs);
      await warmUp(dg.socketPath);
      started[started.length - 1]!.warmedAt = Date.now();
      await sleep(1_000);
      afterWarmUp.push(dg.memory().rssMiB);
    }
    // The reference: the bare node:http proxy, fresh, same warm-up: what Node itself costs.
    const bare = await startReferenceProxy(env.workDir, env.daemonSocket);
    started.push({ stop: () => bare.process.stop(), rss: () => readMemory(bare.process.pid).rssMiB, warmedAt: Number.NaN });
    await warmUp(bare.socketPath);
    started[started.length - 1]!.warmedAt = Date.now();
    await sleep(1_000);
    const bareAfterWarmUp = readMemory(bare.process.pid).rssMiB;
    const settled: number[] = [];
    for (const p of started.slice(0, -1)) {
      await sleep(Math.max(0, p.warmedAt + SETTLE_MS - Date.now()));
      settled.push(p.rss());
    }
    await sleep(Math.max(0, started[started.length - 1]!.warmedAt + SETTLE_MS - Date.now()));
    const bareSettled = started[started.length - 1]!.rss();

    const fStart = roundsFigure('start-up to first served request', 'ms', { dockgate: startMs });
    const median = fStart.values.dockgate!.median;
    fStart.targets.push(atMost('≤ 1 s (median)', median, 1000, `${fmt(median, 'ms')} (max ${fmt(fStart.values.dockgate!.max, 'ms')})`));
    const fIdle = roundsFigure('idle RSS, settled', 'MiB', { dockgate: settled });
    const idle = fIdle.values.dockgate!.median;
    fIdle.targets.push(atMost('≤ 80 MB idle', mibToMB(idle), 80, fmtMemory(idle)));
    fIdle.targets.push(info('reference: a bare node:http proxy, same warm-up, settled', fmtMemory(bareSettled)));
    const fWarm = roundsFigure('RSS 1 s after the warm-up', 'MiB', { dockgate: afterWarmUp });
    fWarm.targets.push(info('a decision worker the warm-up started, if any, is still up; a bare node:http proxy', fmtMemory(bareAfterWarmUp)));
    const main = env.dockgate.memory();
    const fMain = roundsFigure("RSS of the benchmark's long-running dockgate, after the sections before this one", 'MiB', { dockgate: [main.rssMiB] });
    fMain.targets.push(info('its peak so far (VmHWM)', fmt(main.peakMiB, 'MiB')));
    section.figures.push(fStart, fIdle, fWarm, fMain);
  } finally {
    await Promise.all(started.map((p) => p.stop()));
  }
  section.notes.push(`Start-up samples include the long-running dockgate started at set-up (${fmt(env.dockgate.startupMs, 'ms')}).`);
  return section;
}
