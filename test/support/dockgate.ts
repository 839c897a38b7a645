import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { ALLOW_ALL_BUNDLE } from './policy-bundle.js';
import { CLI_ENTRY, REPO_ROOT, nodeBinary } from './repo.js';

// Runs the built dockgate CLI (`dist/cli/main.js serve`) as a child process on a fresh unix
// socket, the way users run it, for the engine tests.

export interface DockgateOptions {
  /** Where dockgate forwards to: unix:///…/docker.sock. */
  upstream: string;
  /** --policy bundle; default: the allow-all test bundle. null: no flag (dockgate's embedded default). */
  policy?: string | null;
  extraArgs?: string[];
  /** Merged over the inherited environment. */
  env?: Record<string, string>;
  /** How long to wait for the socket to accept connections. */
  startTimeoutMs?: number;
  /**
   * Serve with a config file (`--config`) instead of `--listen`: these settings, and listeners
   * whose `unix.path` is filled in (a socket per listener in the temp directory) when omitted.
   */
  config?: { listeners: TestListener[]; [key: string]: unknown };
}

/** A config listener; `unix` defaults to a fresh socket named after the listener. */
export interface TestListener {
  name: string;
  unix?: { path: string; mode?: string };
  [key: string]: unknown;
}

export interface Dockgate {
  socketPath: string;
  /** unix://<socketPath>, for DOCKER_HOST. */
  dockerHost: string;
  /** DOCKER_HOST of each config listener by name (with `config`); the first is `dockerHost`. */
  hosts: Record<string, string>;
  pid: number;
  child: ChildProcess;
  /** SIGTERM, wait for exit (SIGKILL after 15 s), remove the socket directory. */
  stop(): Promise<void>;
  /** Everything dockgate wrote to stdout and stderr so far. */
  logs(): string;
}

function connects(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ path: socketPath });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function allConnect(paths: string[]): Promise<boolean> {
  for (const p of paths) if (!existsSync(p) || !(await connects(p))) return false;
  return true;
}

export async function startDockgate(opts: DockgateOptions): Promise<Dockgate> {
  // DOCKGATE_TEST_CLI runs another entry point with the same arguments (e.g. an installed
  // package's dist/cli/main.js, or a deliberately broken proxy to check that the tests fail).
  const entry = process.env.DOCKGATE_TEST_CLI ?? CLI_ENTRY;
  if (!existsSync(entry)) {
    throw new Error(`${entry} is missing: build with \`npm run build\` (the engine globalSetup builds when src/ is newer)`);
  }
  const dir = await fs.mkdtemp('/tmp/dgg-');
  const policy = opts.policy === undefined ? ALLOW_ALL_BUNDLE : opts.policy;
  let listen: string[];
  let sockets: Record<string, string>;
  if (opts.config) {
    const listeners = opts.config.listeners.map((l) => ({ ...l, unix: l.unix ?? { path: path.join(dir, `${l.name}.sock`) } }));
    const file = path.join(dir, 'dockgate.yaml');
    await fs.writeFile(file, toYaml({ ...opts.config, listeners }));
    listen = ['--config', file];
    sockets = Object.fromEntries(listeners.map((l) => [l.name, l.unix.path]));
  } else {
    sockets = { default: path.join(dir, 'dockgate.sock') };
    listen = ['--listen', `unix://${sockets.default}`];
  }
  const socketPath = Object.values(sockets)[0]!;
  const args = [
    entry,
    'serve',
    ...listen,
    '--upstream',
    opts.upstream,
    ...(policy === null ? [] : ['--policy', policy]),
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(nodeBinary(), args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => output.push(c));
  child.stderr!.on('data', (c: Buffer) => output.push(c));
  const logs = () => Buffer.concat(output).toString('utf8');
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;

  const stop = async () => {
    if (running()) {
      child.kill('SIGTERM');
      // dockgate lets hijacked streams run on for shutdownGraceSeconds (10 s by default) after
      // SIGTERM; past that plus a margin, a hang on shutdown is a finding in itself.
      const timer = setTimeout(() => {
        console.warn(`dockgate (pid ${child.pid}) still running 15 s after SIGTERM: killed`);
        child.kill('SIGKILL');
      }, 15_000);
      await exited;
      clearTimeout(timer);
    }
    await fs.rm(dir, { recursive: true, force: true });
  };

  const timeoutMs = opts.startTimeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError || !running()) {
      await stop();
      const why = spawnError ? spawnError.message : `exited with ${child.exitCode ?? child.signalCode}`;
      throw new Error(`dockgate ${args.slice(1).join(' ')} ${why} before listening:\n${logs()}`);
    }
    if (await allConnect(Object.values(sockets))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`dockgate did not accept connections on ${socketPath} within ${timeoutMs} ms:\n${logs()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  const hosts = Object.fromEntries(Object.entries(sockets).map(([name, p]) => [name, `unix://${p}`]));
  return { socketPath, dockerHost: `unix://${socketPath}`, hosts, pid: child.pid!, child, stop, logs };
}
