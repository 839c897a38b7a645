// glibc malloc settings for `dockgate serve`, applied by its one re-execution (heap-floor.ts):
// glibc reads them from the environment when the process starts, so they cannot be set later.
//
// Why: a decision worker thread starts when a decision needs one (it ran out of its steps on the
// event loop, or policyInlineSteps is 0) and stops after 30 s without work (decision-pool.ts).
// Its allocations (compiler zones, the wasm engine's buffers) live in a malloc arena of its own,
// and glibc keeps the freed memory of a thread's arena resident after the thread has gone; the
// main arena keeps freed memory below its top for the same reason, with a trim threshold that
// grows to 64 MiB as large buffers come and go. Measured on a settled idle
// dockgate (bench/FINDINGS.md, "Memory"): RSS ~2 MiB lower with at most two arenas and a fixed
// 128 KiB trim threshold. Checked for a price: CPU and page faults per 256 MiB archive PUT and
// GET are the same with and without (alternating A/B after a warm-up transfer), and the peak RSS
// with 500 held streams is lower.
// A variable the operator has set is kept as it is.
export const MALLOC_SETTINGS: Readonly<Record<string, string>> = {
  // Main and worker thread each keep an arena of their own; further threads share them.
  MALLOC_ARENA_MAX: '2',
  // Freed memory above 128 KiB at the top of an arena goes back to the system.
  MALLOC_TRIM_THRESHOLD_: '131072',
};

/** `env` with the malloc settings the operator has not set. */
export function withMallocSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const [name, value] of Object.entries(MALLOC_SETTINGS)) if (out[name] === undefined) out[name] = value;
  return out;
}
