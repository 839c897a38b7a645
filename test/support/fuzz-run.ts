import type fc from 'fast-check';

// How long the property-based suites run. CI: a fixed seed and a small case count, so a run is
// reproducible and cheap. On demand (`npm run fuzz`): FUZZ_SECONDS of cases (or FUZZ_RUNS), with
// FUZZ_SEED to replay a run; fast-check prints the seed and the shrunk counterexample on failure.

export interface FuzzBudget {
  params: fc.Parameters<unknown>;
  /** vitest timeout for one property. */
  timeoutMs: number;
  seed: number;
}

export function fuzzBudget(ciRuns: number): FuzzBudget {
  const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 0x9d0c6a7e;
  const seconds = Number(process.env.FUZZ_SECONDS ?? 0);
  if (seconds > 0) {
    return {
      seed,
      params: { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
      // Shrinking a finding after the time limit needs room too.
      timeoutMs: seconds * 1000 + 600_000,
    };
  }
  const runs = Number(process.env.FUZZ_RUNS ?? ciRuns);
  return { seed, params: { seed, numRuns: runs }, timeoutMs: 120_000 + runs * 2_000 };
}
