// `dockgate serve` runs V8 with a floor under the old generation's allocation limit.
//
// Why: every 64 KiB read of a streamed body (archive, build context, image load) is a new
// ArrayBuffer outside the JS heap; scavenges free them. With a live heap above V8's activation
// threshold (~8 MB; dockgate's is ~10 MB, a bare node:http proxy's ~6 MB) V8 starts an
// incremental mark-compact of the whole heap after each scavenge as long as the headroom below
// its old-generation limit (~2.3x the live heap) is under ~32 MB: ~30 of them per 512 MiB
// streamed, ~40% of the proxy's CPU (bench/FINDINGS.md, "Archive throughput"). A 48 MiB floor
// removed most of them, but uploads still started 9-13 per 768 MiB ("allocation limit" with
// ~39 MB of slack, for the external memory of every uploaded piece); 64 MiB: 2, 80 MiB: none
// (upload CPU per MiB ~10-20% lower). The price is old-generation garbage kept longer under load:
// peak RSS with 200 concurrent clients ~147 MiB at 48, ~167 at 80; 500 held streams and the
// settled idle RSS are unchanged. The flag only exists on the command line (V8 sizes the heap
// before any JS runs; v8.setFlagsFromString is too late, NODE_OPTIONS refuses it), so serve
// re-executes itself once with it: process.execve keeps the PID, stdio and environment, to which
// it adds glibc malloc's settings (malloc-env.ts), read only when a process starts.

import { accessSync, constants } from 'node:fs';
import { withMallocSettings } from './malloc-env.js';

export const HEAP_FLOOR_MIB = 80;
const FLAG = '--initial-old-space-size';

/** The node flags to re-execute with, or undefined when the command line already chose a size. */
export function heapFloorExecArgv(execArgv: readonly string[]): string[] | undefined {
  // V8 spells its flags with dashes or underscores alike.
  const chosen = execArgv.some((a) => a.replaceAll('_', '-').startsWith(FLAG));
  return chosen ? undefined : [...execArgv, `${FLAG}=${HEAP_FLOOR_MIB}`];
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Replaces this process with the same command plus the heap floor and malloc settings (no return), unless the floor is set. */
export function ensureHeapFloor(): void {
  const execArgv = heapFloorExecArgv(process.execArgv);
  // process.execve: Node ≥ 22.15 / 23.11, not on Windows. Without it dockgate runs as is. A
  // failing execve aborts node, so the one failure that can be foreseen (the node binary gone
  // or not executable) is checked first; a seccomp filter that forbids execve is documented.
  if (!execArgv || typeof process.execve !== 'function' || process.platform === 'win32' || !executable(process.execPath)) return;
  process.execve(process.execPath, [process.execPath, ...execArgv, ...process.argv.slice(1)], withMallocSettings(process.env));
}
