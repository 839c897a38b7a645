// 4b. Start-up and idle memory: fresh dockgate processes, each timed from spawn to the first
// request it serves (GET /_ping, judged by the policy), then warmed with a few hundred requests
// and left idle for a second before its RSS is read.
import { startDockgate } from '../dockgate.js';
import { API } from '../engine-objects.js';
import type { BenchEnv } from '../environment.js';
import { atMost, fmt, info, newSection, roundsFigure, type Section } from '../figures.js';
import { keepAliveAgent, send } from '../http-client.js';
import { readMemory } from '../processes.js';
import { startReferenceProxy } from '../reference-proxy.js';

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

export async function startup(env: BenchEnv): Promise<Section> {
  const { opts } = env;
  const section = newSection(
    'startup',
    '4b. Start-up and idle memory (dockgate)',
    `${opts.startups} fresh \`dockgate serve\` processes with the benchmark's policy: time from spawn to the first answered GET /_ping (polled every 2 ms), then 300 requests (/_ping, containers/json, version), 1 s idle, VmRSS. Min / median / max over processes.`,
    ['dockgate'],
  );
  const startMs: number[] = [env.dockgate.startupMs];
  const idleRss: number[] = [];
  for (let i = 0; i < opts.startups; i++) {
    const dg = await startDockgate({ daemonSocket: env.daemonSocket, policy: env.policy.file, entrypoint: env.policy.entrypoint, workDir: env.workDir });
    try {
      startMs.push(dg.startupMs);
      await warmUp(dg.socketPath);
      await sleep(1_000);
      idleRss.push(dg.memory().rssMiB);
    } finally {
      await dg.stop();
    }
  }
  const fStart = roundsFigure('start-up to first served request', 'ms', { dockgate: startMs });
  const median = fStart.values.dockgate!.median;
  fStart.targets.push(atMost('≤ 1 s (median)', median, 1000, `${fmt(median, 'ms')} (max ${fmt(fStart.values.dockgate!.max, 'ms')})`));
  const fIdle = roundsFigure('idle RSS after warm-up', 'MiB', { dockgate: idleRss });
  const idle = fIdle.values.dockgate!.median;
  fIdle.targets.push(atMost('≤ 80 MB idle', idle, 80, fmt(idle, 'MiB')));
  // Reference: the bare node:http proxy, fresh, same warm-up: what Node itself costs.
  const bare = await startReferenceProxy(env.workDir, env.daemonSocket);
  let bareRss: number;
  try {
    await warmUp(bare.socketPath);
    await sleep(1_000);
    bareRss = readMemory(bare.process.pid).rssMiB;
  } finally {
    await bare.process.stop();
  }
  fIdle.targets.push(info('reference: a bare node:http proxy, same warm-up', fmt(bareRss, 'MiB')));
  const main = env.dockgate.memory();
  const fMain = roundsFigure("RSS of the benchmark's long-running dockgate, after the sections before this one", 'MiB', { dockgate: [main.rssMiB] });
  fMain.targets.push(info('its peak so far (VmHWM)', fmt(main.peakMiB, 'MiB')));
  section.figures.push(fStart, fIdle, fMain);
  section.notes.push(`Start-up samples include the long-running dockgate started at set-up (${fmt(env.dockgate.startupMs, 'ms')}).`);
  return section;
}
