// Child processes of the benchmark (dockgate, HAProxy, OPA): started with their output in a log
// file, waited for until they serve, measured through /proc, and stopped by their own pid.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { send } from './http-client.js';

export interface Memory {
  /** Resident set size now (VmRSS), in MiB (/proc reports KiB). */
  rssMiB: number;
  /** Peak resident set size since the process started (VmHWM), in MiB. */
  peakMiB: number;
}

/** VmRSS and VmHWM of a process; NaN once it is gone. */
export function readMemory(pid: number): Memory {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
  } catch {
    return { rssMiB: Number.NaN, peakMiB: Number.NaN };
  }
}

let clockTicks: number | undefined;

/**
 * CPU time (user + system) a process has used so far, in ms; NaN once it is gone. Differences of
 * it per unit of work are robust to the machine's other load, unlike wall-clock rates.
 */
export function readCpuMs(pid: number): number {
  try {
    // Fields after the parenthesised command name, which may itself contain spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ticksToMs(Number(fields[11]) + Number(fields[12]));
  } catch {
    return Number.NaN;
  }
}

function ticksToMs(ticks: number): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return (ticks * 1000) / clockTicks;
}

/**
 * CPU time the whole machine has spent busy so far (every process and the kernel, all cores:
 * /proc/stat's user, nice, system, irq, softirq and steal), in ms. Per unit of work it tells how
 * much CPU a transfer costs end to end, and against the cores × wall time whether the machine's
 * CPU, not any one process, is what limits it.
 */
export function readMachineBusyMs(): number {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).map(Number);
  return ticksToMs(user! + nice! + system! + irq! + softirq! + steal!);
}

export interface Child {
  name: string;
  child: ChildProcess;
  pid: number;
  logPath: string;
  running(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
  logTail(chars?: number): string;
}

export function startChild(name: string, file: string, args: string[], logPath: string, env?: NodeJS.ProcessEnv): Child {
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(file, args, { stdio: ['ignore', fd, fd], env: env ?? process.env });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`cannot start ${name} (${file})`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined); // reported through running() and the log
  const running = () => child.exitCode === null && child.signalCode === null;
  const logTail = (chars = 3000) => {
    try {
      return readFileSync(logPath, 'utf8').slice(-chars);
    } catch {
      return '(no log)';
    }
  };
  return {
    name,
    child,
    pid: child.pid,
    logPath,
    running,
    logTail,
    async stop(graceMs = 15_000) {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `path` on the socket until it answers 200; resolves with the milliseconds since `since`
 * (an hrtime reading taken just before the process was spawned). Poll interval 2 ms, so the
 * start-up figure is accurate to a few ms.
 */
export async function waitUntilServing(child: Child, socketPath: string, path: string, since: bigint, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  for (;;) {
    if (!child.running()) throw new Error(`${child.name} exited during start-up:\n${child.logTail()}`);
    try {
      const res = await send(socketPath, false, 'GET', path, { timeoutMs: 2_000, collect: true });
      if (res.status === 200) return Number(process.hrtime.bigint() - since) / 1e6;
      last = `HTTP ${res.status} ${res.body.toString('utf8').slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) {
      await child.stop(2_000);
      throw new Error(`${child.name} did not serve ${path} on ${socketPath} within ${timeoutMs} ms (last: ${last}):\n${child.logTail()}`);
    }
    await sleep(2);
  }
}
