// `dockgate serve` runs V8 with a floor under the old generation's allocation limit.
//
// Why: every 64 KiB read of a streamed body (archive, build context, image load) is a new
// ArrayBuffer outside the JS heap; they are freed by scavenges. With a live heap above V8's
// activation threshold (~8 MB; dockgate's is ~10 MB, a bare node:http proxy's ~6 MB) and a
// computed limit only ~12 MB above it, V8 decides after each scavenge that the headroom is below
// the young generation's size and starts another incremental mark-compact of the whole heap:
// ~30 of them per 512 MiB streamed, ~40% of the proxy's CPU (bench/FINDINGS.md, "Archive
// throughput"). A floor of 64 MiB keeps the headroom and leaves the buffers to scavenges, as in
// the bare proxy. The flag only exists on the command line (V8 sizes the heap once, before any
// JS runs; v8.setFlagsFromString is too late, NODE_OPTIONS refuses it), so serve re-executes
// itself once with it: process.execve keeps the PID, stdio and environment.

export const HEAP_FLOOR_MIB = 64;
const FLAG = '--initial-old-space-size';

/** The node flags to re-execute with, or undefined when the command line already chose a size. */
export function heapFloorExecArgv(execArgv: readonly string[]): string[] | undefined {
  // V8 spells its flags with dashes or underscores alike.
  const chosen = execArgv.some((a) => a.replaceAll('_', '-').startsWith(FLAG));
  return chosen ? undefined : [...execArgv, `${FLAG}=${HEAP_FLOOR_MIB}`];
}

/** Replaces this process with the same command plus the heap floor (no return), unless set. */
export function ensureHeapFloor(): void {
  const execArgv = heapFloorExecArgv(process.execArgv);
  // process.execve: Node ≥ 22.15 / 23.11, not on Windows. Without it dockgate runs as is.
  if (!execArgv || typeof process.execve !== 'function' || process.platform === 'win32') return;
  process.execve(process.execPath, [process.execPath, ...execArgv, ...process.argv.slice(1)], process.env);
}
