// The benchmark's world: a private dockerd with the busybox test image, and in front of it the
// peers compared in every section — the daemon's own socket (direct), HAProxy configured like
// docker-socket-proxy, and dockgate with the policy; beside them the reference proxies (floors,
// not peers: bench/reference-proxy.ts). Everything lives under one /tmp directory
// and is torn down at the end, also on Ctrl-C.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import type http from 'node:http';
import { TEST_IMAGE, buildTestImage, startPrivateDockerd, type PrivateDockerd } from '../test/support/dockerd.js';
import { startDockgate, type DockgatePeer } from './dockgate.js';
import { startHaproxy, type HaproxyPeer } from './haproxy.js';
import { keepAliveAgent, sendExpect } from './http-client.js';
import { opaVersion } from './opa.js';
import { REFERENCES, startReferenceProxy, type ReferenceName } from './reference-proxy.js';
import type { BenchOptions } from './options.js';
import { BASELINE_BUNDLE, FALLBACK_BUNDLE } from './repo.js';

export type PeerName = 'direct' | 'HAProxy' | 'dockgate';
export const PEERS: readonly PeerName[] = ['direct', 'HAProxy', 'dockgate'];

export interface Peer {
  name: PeerName;
  socketPath: string;
  /** One keep-alive connection: the sequential client of the latency figures. */
  agent: http.Agent;
}

export interface PolicyChoice {
  file: string;
  entrypoint: string;
  /** How the report names it, and why it was chosen. */
  description: string;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  dockerd: string;
  haproxy: string;
  opa: string;
  loadAtStart: number[];
}

/** A reference proxy (bench/reference-proxy.ts): not a peer, a floor. */
export interface Reference {
  socketPath: string;
  agent: http.Agent;
  pid: number;
}

export interface BenchEnv {
  opts: BenchOptions;
  workDir: string;
  daemon: PrivateDockerd;
  daemonSocket: string;
  image: string;
  policy: PolicyChoice;
  haproxy: HaproxyPeer;
  dockgate: DockgatePeer;
  peers: Record<PeerName, Peer>;
  references: Record<ReferenceName, Reference>;
  machine: MachineInfo;
  /** Runs in reverse order at teardown. */
  onTeardown(fn: () => Promise<void>): void;
  teardown(): Promise<void>;
}

/** The peers in an order that moves by one each round, so no peer always goes first. */
export function rotated<T>(items: readonly T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

export function choosePolicy(): PolicyChoice {
  if (existsSync(BASELINE_BUNDLE.file)) {
    return { ...BASELINE_BUNDLE, description: `policy/dist/dockgate.tar.gz (shipped baseline, entrypoint ${BASELINE_BUNDLE.entrypoint})` };
  }
  return {
    ...FALLBACK_BUNDLE,
    description: `policy/dist/test-deny-privileged.tar.gz (entrypoint ${FALLBACK_BUNDLE.entrypoint}; the baseline bundle policy/dist/dockgate.tar.gz was not built yet)`,
  };
}

function haproxyVersion(): string {
  const out = execFileSync('haproxy', ['-v'], { encoding: 'utf8' });
  return /version (\S+)/.exec(out)?.[1] ?? out.split('\n')[0]!;
}

function cpuModel(): string {
  const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return m?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
}

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

export async function setUp(opts: BenchOptions): Promise<BenchEnv> {
  const workDir = mkdtempSync('/tmp/dgb-');
  const teardowns: (() => Promise<void>)[] = [async () => rmSync(workDir, { recursive: true, force: true })];
  const onTeardown = (fn: () => Promise<void>) => void teardowns.push(fn);
  const teardown = async () => {
    while (teardowns.length > 0) {
      const fn = teardowns.pop()!;
      await fn().catch((e: Error) => log(`teardown: ${e.message}`));
    }
  };
  try {
    log('starting a private dockerd');
    const daemon = await startPrivateDockerd();
    onTeardown(() => daemon.destroy());
    const daemonSocket = daemon.socketPath;
    log(`importing ${TEST_IMAGE}`);
    await buildTestImage(daemon.host);
    const version = await sendExpect(daemonSocket, false, 'GET', '/version', [200]);
    const dockerd = (JSON.parse(version.body.toString('utf8')) as { Version: string; ApiVersion: string });

    const policy = choosePolicy();
    log(`policy: ${policy.description}`);
    const haproxy = await startHaproxy(workDir, daemonSocket, haproxyVersion());
    onTeardown(() => haproxy.process.stop());
    const dockgate = await startDockgate({ daemonSocket, policy: policy.file, entrypoint: policy.entrypoint, workDir });
    onTeardown(() => dockgate.stop());

    const peers: Record<PeerName, Peer> = {
      direct: { name: 'direct', socketPath: daemonSocket, agent: keepAliveAgent() },
      HAProxy: { name: 'HAProxy', socketPath: haproxy.socketPath, agent: keepAliveAgent() },
      dockgate: { name: 'dockgate', socketPath: dockgate.socketPath, agent: keepAliveAgent() },
    };
    onTeardown(async () => Object.values(peers).forEach((p) => p.agent.destroy()));
    const references = {} as Record<ReferenceName, Reference>;
    for (const name of REFERENCES) {
      const started = await startReferenceProxy(workDir, daemonSocket, name);
      onTeardown(() => started.process.stop());
      references[name] = { socketPath: started.socketPath, agent: keepAliveAgent(), pid: started.process.pid };
      onTeardown(async () => references[name].agent.destroy());
    }

    const machine: MachineInfo = {
      cpu: cpuModel(),
      cores: os.availableParallelism(),
      memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
      kernel: `${os.type()} ${os.release()}`,
      node: process.version,
      dockerd: `${dockerd.Version} (API ${dockerd.ApiVersion})`,
      haproxy: haproxy.version,
      opa: opaVersion(),
      loadAtStart: os.loadavg(),
    };
    return { opts, workDir, daemon, daemonSocket, image: TEST_IMAGE, policy, haproxy, dockgate, peers, references, machine, onTeardown, teardown };
  } catch (err) {
    await teardown();
    throw err;
  }
}
