import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
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
  /** Serve the admin listener (/metrics, /healthz, /readyz) on a unix socket next to the proxy's. */
  admin?: boolean;
}

export interface Dockgate {
  socketPath: string;
  /** unix://<socketPath>, for DOCKER_HOST. */
  dockerHost: string;
  pid: number;
  child: ChildProcess;
  /** The admin listener's socket when started with `admin: true`. */
  adminSocket?: string;
  /** Resolves when the process has exited, with its status. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, wait for exit (SIGKILL after 15 s), remove the socket directory. */
  stop(): Promise<void>;
  /** Everything dockgate wrote to stdout and stderr so far. */
  logs(): string;
  /** Resolves once the output matches (logs are written asynchronously); rejects after timeoutMs. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** The JSON log lines so far, parsed (other output is skipped). */
  logRecords(): LogRecord[];
  /** The first log record matching `pred`, once it has arrived (logs are written asynchronously). */
  waitForRecord(pred: (r: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
}

export type LogRecord = Record<string, unknown> & { msg?: string; level?: number };

/** The JSON lines of a pino log. */
export function parseLogRecords(text: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogRecord);
    } catch {
      // a line cut by a still-running write
    }
  }
  return out;
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

export async function startDockgate(opts: DockgateOptions): Promise<Dockgate> {
  const dir = await fs.mkdtemp('/tmp/dgg-');
  const socketPath = path.join(dir, 'dockgate.sock');
  const adminSocket = opts.admin ? path.join(dir, 'admin.sock') : undefined;
  const policy = opts.policy === undefined ? ALLOW_ALL_BUNDLE : opts.policy;
  const args = [
    '--listen',
    `unix://${socketPath}`,
    '--upstream',
    opts.upstream,
    ...(policy === null ? [] : ['--policy', policy]),
    ...(adminSocket !== undefined ? ['--admin', `unix://${adminSocket}`] : []),
    ...(opts.extraArgs ?? []),
  ];
  const ready = async (socket: string | undefined) => socket === undefined || (existsSync(socket) && (await connects(socket)));
  const proc = await launch(args, dir, opts, async () => (await ready(socketPath)) && (await ready(adminSocket)));
  return { ...proc, socketPath, dockerHost: `unix://${socketPath}`, ...(adminSocket !== undefined ? { adminSocket } : {}) };
}

type Launched = Omit<Dockgate, 'socketPath' | 'dockerHost' | 'adminSocket'>;

// Spawns `dockgate serve ARGS` and polls `ready` (given the output so far) until it says yes.
async function launch(serveArgs: string[], dir: string, opts: Pick<DockgateOptions, 'env' | 'startTimeoutMs'>, ready: (logs: string) => Promise<boolean>): Promise<Launched> {
  // DOCKGATE_TEST_CLI runs another entry point with the same arguments (e.g. an installed
  // package's dist/cli/main.js, or a deliberately broken proxy to check that the tests fail).
  const entry = process.env.DOCKGATE_TEST_CLI ?? CLI_ENTRY;
  if (!existsSync(entry)) {
    throw new Error(`${entry} is missing: build with \`npm run build\` (the engine globalSetup builds when src/ is newer)`);
  }
  const args = [entry, 'serve', ...serveArgs];
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
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
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
    if (await ready(logs())) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`dockgate ${args.slice(1).join(' ')} was not ready within ${timeoutMs} ms:\n${logs()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const waitForLog = async (pattern: RegExp, waitMs = 10_000) => {
    const until = Date.now() + waitMs;
    while (!pattern.test(logs())) {
      if (Date.now() > until) throw new Error(`dockgate's log did not show ${pattern} within ${waitMs} ms:\n${logs().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const waitForRecord = async (pred: (r: LogRecord) => boolean, waitMs = 10_000) => {
    const until = Date.now() + waitMs;
    for (;;) {
      const found = parseLogRecords(logs()).find(pred);
      if (found) return found;
      if (Date.now() > until) throw new Error(`no matching log record within ${waitMs} ms; log so far:\n${logs().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return { pid: child.pid!, child, exited, stop, logs, waitForLog, logRecords: () => parseLogRecords(logs()), waitForRecord };
}

/** Where each listener of a config-file dockgate listens, from its "dockgate listening" log lines. */
export interface ListenerAddress {
  /** unix://… or tcp://host:port, for DOCKER_HOST. */
  dockerHost: string;
  socketPath?: string;
  host?: string;
  port?: number;
}

export interface ConfiguredDockgate extends Omit<Dockgate, 'socketPath' | 'dockerHost'> {
  /** By listener name. */
  listeners: Record<string, ListenerAddress>;
  /** The directory the config file is in (removed by stop()); also for unix sockets of the test. */
  dir: string;
}

export interface ConfiguredDockgateOptions extends Omit<DockgateOptions, 'upstream'> {
  /** The whole config (upstream included), written as the YAML file `serve --config` reads. */
  config: (dir: string) => Record<string, unknown>;
}

function listeningLines(logs: string): Record<string, ListenerAddress> {
  const out: Record<string, ListenerAddress> = {};
  for (const line of logs.split('\n')) {
    if (!line.includes('dockgate listening')) continue;
    const entry = JSON.parse(line) as { listener: string; socket?: string; address?: string };
    if (entry.socket) out[entry.listener] = { dockerHost: `unix://${entry.socket}`, socketPath: entry.socket };
    else if (entry.address) {
      const colon = entry.address.lastIndexOf(':');
      out[entry.listener] = { dockerHost: `tcp://${entry.address}`, host: entry.address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(entry.address.slice(colon + 1)) };
    }
  }
  return out;
}

/** dockgate serve --config FILE, ready once every listener of the config has said where it listens. */
export async function startDockgateWithConfig(opts: ConfiguredDockgateOptions): Promise<ConfiguredDockgate> {
  const dir = await fs.mkdtemp('/tmp/dgg-');
  const config = opts.config(dir);
  const file = path.join(dir, 'dockgate.yaml');
  // JSON is YAML: the file is exactly the object the test built.
  await fs.writeFile(file, JSON.stringify(config, null, 2));
  const wanted = (config.listeners as { name: string }[]).map((l) => l.name);
  const policy = opts.policy === undefined ? ALLOW_ALL_BUNDLE : opts.policy;
  const args = ['--config', file, ...(policy === null ? [] : ['--policy', policy]), ...(opts.extraArgs ?? [])];
  let listeners: Record<string, ListenerAddress> = {};
  // An admin listener on a unix socket (config `admin: unix://…`) is waited for too.
  const admin = typeof config.admin === 'string' && config.admin.startsWith('unix://') ? config.admin.slice('unix://'.length) : undefined;
  const proc = await launch(args, dir, opts, async (logs) => {
    listeners = listeningLines(logs);
    return wanted.every((n) => listeners[n] !== undefined) && (admin === undefined || (existsSync(admin) && (await connects(admin))));
  });
  return { ...proc, listeners, dir };
}
