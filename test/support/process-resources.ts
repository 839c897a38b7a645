import { promises as fs } from 'node:fs';
import { sleep } from './fixtures.js';

// A process's resources as the kernel reports them, for the leak checks of the hostile-client and
// fault tests: open file descriptors and resident memory, measured before and after.

export async function openFds(pid: number): Promise<number> {
  return (await fs.readdir(`/proc/${pid}/fd`)).length;
}

/** Resident set size in bytes (VmRSS). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!kb) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb[1]) * 1024;
}

/**
 * Polls `measure` until it is at most `max` (sockets being closed take a moment to go) and
 * returns the last value; the caller asserts on it.
 */
export async function settle(measure: () => Promise<number>, max: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let n = await measure();
  while (n > max && Date.now() < deadline) {
    await sleep(100);
    n = await measure();
  }
  return n;
}
