import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Runs real clients (docker CLI, docker-compose, python, script) as child processes with their
// output captured, so engine tests assert on what a user would see.

export interface RunResult {
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunOptions {
  /** Written to stdin, which is then closed. Without it stdin is /dev/null. */
  input?: string | Buffer;
  timeoutMs?: number;
  /** Merged over the inherited environment; undefined removes a variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** The docker CLI: $DOCKGATE_TEST_DOCKER_CLI, the 28.x build in /usr/local/bin, else PATH. */
export function dockerBinary(): string {
  const fromEnv = process.env.DOCKGATE_TEST_DOCKER_CLI;
  if (fromEnv) return fromEnv;
  return existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : 'docker';
}

// An empty DOCKER_CONFIG keeps the developer's contexts, credential helpers and CLI plugins
// (buildx would take over `docker build`) out of the tests. Shared and left in place: it stays empty.
const CLI_CONFIG_DIR = path.join(os.tmpdir(), 'dockgate-test-docker-config');
function emptyDockerConfig(): string {
  mkdirSync(CLI_CONFIG_DIR, { recursive: true, mode: 0o700 });
  return CLI_CONFIG_DIR;
}

/** The environment for a Docker client talking to `host` (unix://… or tcp://…) and nothing else. */
export function clientEnv(host: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    DOCKER_HOST: host,
    DOCKER_CONFIG: emptyDockerConfig(),
    DOCKER_CONTEXT: undefined,
    DOCKER_TLS_VERIFY: undefined,
    DOCKER_CERT_PATH: undefined,
    DOCKER_API_VERSION: undefined,
    DOCKER_CLI_HINTS: 'false',
    ...extra,
  };
}

/** process.env with overrides applied (undefined removes a variable), for spawn(). */
export function mergedEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** A client process still running: its output so far, and its end. */
export interface LiveProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout+stderr match; rejects on timeout or if the process ends first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<RunResult>;
  /** Resolves with the result, killing the process (SIGKILL) if it is still running after timeoutMs. */
  result(timeoutMs?: number): Promise<RunResult>;
}

export function spawnProcess(
  file: string,
  args: string[],
  opts: Omit<RunOptions, 'input' | 'timeoutMs'> & { stdin?: 'pipe' | 'ignore' } = {},
): LiveProcess {
  const child = spawn(file, args, {
    cwd: opts.cwd,
    env: mergedEnv(opts.env),
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const watchers = new Set<() => void>();
  const notify = () => watchers.forEach((w) => w());
  child.stdout!.on('data', (c: Buffer) => {
    out.push(c);
    notify();
  });
  child.stderr!.on('data', (c: Buffer) => {
    err.push(c);
    notify();
  });
  let ended = false;
  const exited = new Promise<RunResult>((resolve, reject) => {
    child.once('error', reject);
    // 'close' (not 'exit'): all output has been read.
    child.once('close', (code, signal) => {
      ended = true;
      notify();
      const stdoutBytes = Buffer.concat(out);
      resolve({ stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes, code, signal });
    });
  });
  const stdout = () => Buffer.concat(out).toString('utf8');
  const stderr = () => Buffer.concat(err).toString('utf8');
  const describe = () => `${file} ${args.join(' ')}\n--- stdout:\n${stdout().slice(-2000)}\n--- stderr:\n${stderr().slice(-2000)}`;

  return {
    child,
    stdout,
    stderr,
    exited,
    waitForOutput(pattern, timeoutMs = 30_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout() + stderr())) finish();
          else if (ended) finish(new Error(`process ended before its output matched ${pattern}: ${describe()}`));
        };
        const timer = setTimeout(
          () => finish(new Error(`output did not match ${pattern} within ${timeoutMs} ms: ${describe()}`)),
          timeoutMs,
        );
        const finish = (e?: Error) => {
          clearTimeout(timer);
          watchers.delete(check);
          if (e) reject(e);
          else resolve();
        };
        watchers.add(check);
        check();
      });
    },
    async result(timeoutMs = DEFAULT_TIMEOUT_MS) {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      try {
        const r = await exited;
        if (timedOut) throw new Error(`timed out after ${timeoutMs} ms and killed: ${describe()}`);
        return r;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Runs a command to its end (killed after timeoutMs, which rejects with the output so far). */
export function runCommand(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const live = spawnProcess(file, args, { ...opts, stdin: opts.input === undefined ? 'ignore' : 'pipe' });
  if (opts.input !== undefined) {
    // A client that exits early closes the pipe: that EPIPE is the client's business, not ours.
    live.child.stdin!.on('error', () => undefined);
    live.child.stdin!.end(opts.input);
  }
  return live.result(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
}

/** The docker CLI against `host` (dockgate's socket, or the daemon's for direct assertions). */
export function runDocker(host: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runCommand(dockerBinary(), args, { ...opts, env: clientEnv(host, opts.env) });
}

/** A long-running docker CLI command (logs -f, attach, events) against `host`. */
export function spawnDocker(
  host: string,
  args: string[],
  opts: Omit<RunOptions, 'input' | 'timeoutMs'> & { stdin?: 'pipe' | 'ignore' } = {},
): LiveProcess {
  return spawnProcess(dockerBinary(), args, { ...opts, env: clientEnv(host, opts.env) });
}

/** POSIX shell quoting of one argument. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs the docker CLI inside a pseudo-terminal (util-linux `script -qec … /dev/null`), for
 * `run -t` / `exec -it`. `input` is typed into the terminal; the result is the terminal's output
 * (with \r\n line ends) and the command's exit code (`-e`).
 */
export function runDockerInPty(host: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const command = [dockerBinary(), ...args].map(shellQuote).join(' ');
  return runCommand('script', ['-qec', command, '/dev/null'], {
    ...opts,
    env: clientEnv(host, { SHELL: '/bin/sh', TERM: 'xterm', ...opts.env }),
  });
}

/** For assertion messages: the command's output in one string. */
export function describeResult(r: RunResult): string {
  return `exit ${r.code ?? r.signal}\n--- stdout:\n${r.stdout.slice(-3000)}\n--- stderr:\n${r.stderr.slice(-3000)}`;
}
