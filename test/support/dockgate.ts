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
  /** The JSON log lines so far, parsed (other output is skipped). */
  logRecords(): LogRecord[];
  /**
   * The first log record matching `pred`, once it has arrived: dockgate writes its log
   * asynchronously, so a line may reach the pipe after the client already has its answer.
   */
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
  // DOCKGATE_TEST_CLI runs another entry point with the same arguments (e.g. an installed
  // package's dist/cli/main.js, or a deliberately broken proxy to check that the tests fail).
  const entry = process.env.DOCKGATE_TEST_CLI ?? CLI_ENTRY;
  if (!existsSync(entry)) {
    throw new Error(`${entry} is missing: build with \`npm run build\` (the engine globalSetup builds when src/ is newer)`);
  }
  const dir = await fs.mkdtemp('/tmp/dgg-');
  const socketPath = path.join(dir, 'dockgate.sock');
  const adminSocket = opts.admin ? path.join(dir, 'admin.sock') : undefined;
  const policy = opts.policy === undefined ? ALLOW_ALL_BUNDLE : opts.policy;
  const args = [
    entry,
    'serve',
    '--listen',
    `unix://${socketPath}`,
    '--upstream',
    opts.upstream,
    ...(policy === null ? [] : ['--policy', policy]),
    ...(adminSocket !== undefined ? ['--admin', `unix://${adminSocket}`] : []),
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
    if (existsSync(socketPath) && (await connects(socketPath)) && (adminSocket === undefined || (await connects(adminSocket)))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`dockgate did not accept connections on ${socketPath} within ${timeoutMs} ms:\n${logs()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    socketPath,
    dockerHost: `unix://${socketPath}`,
    pid: child.pid!,
    child,
    ...(adminSocket !== undefined ? { adminSocket } : {}),
    exited,
    stop,
    logs,
    logRecords: () => parseLogRecords(logs()),
    async waitForRecord(pred, waitMs = 10_000) {
      const until = Date.now() + waitMs;
      for (;;) {
        const found = parseLogRecords(logs()).find(pred);
        if (found) return found;
        if (Date.now() > until) throw new Error(`no matching log record within ${waitMs} ms; log so far:\n${logs().slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
