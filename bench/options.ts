// Command-line options of `npm run bench -- [options]`. The defaults are the full run (about
// 6–8 minutes on 2 cores); --quick scales every section down for a run of about a minute.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_DIR, REPO_ROOT } from './repo.js';

export const SECTION_IDS = ['passthrough', 'admission', 'eval', 'throughput', 'concurrency', 'startup', 'scaling'] as const;
export type SectionId = (typeof SECTION_IDS)[number];

export interface BenchOptions {
  quick: boolean;
  sections: ReadonlySet<SectionId>;
  /** Interleaved rounds of the latency sections. */
  rounds: number;
  /** Bytes through archive PUT/GET and the build context. */
  transferBytes: number;
  transferRounds: number;
  /** Simultaneous attach/logs -f streams. */
  streams: number;
  streamHoldMs: number;
  /** Concurrent clients on mixed requests, and how long each peer is loaded. */
  clients: number;
  clientsMs: number;
  startups: number;
  /** Create iterations per point of the scaling curves. */
  scalingIterations: number;
  policySizes: number[];
  bodySizes: number[];
  /**
   * Run dockgate under --cpu-prof and summarize its hot spots: true/false from --profile /
   * --no-profile; undefined = only in a full run that misses a target.
   */
  profile: boolean | undefined;
  out: string;
  argv: string[];
}

const USAGE = `npm run bench -- [--quick] [--only a,b] [--bytes SIZE] [--rounds N] [--streams N] [--clients N] [--[no-]profile] [--out FILE]
  sections: ${SECTION_IDS.join(', ')}
  SIZE: bytes, or with k/m/g (binary): 64m, 1g`;

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)(?:i?b)?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size ${JSON.stringify(s)}\n${USAGE}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

function positiveInt(s: string | undefined, name: string): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer\n${USAGE}`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowNegative: true,
    options: {
      quick: { type: 'boolean' },
      only: { type: 'string' },
      bytes: { type: 'string' },
      rounds: { type: 'string' },
      streams: { type: 'string' },
      clients: { type: 'string' },
      profile: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  let sections: Set<SectionId> = new Set(SECTION_IDS);
  if (values.only !== undefined) {
    const wanted = values.only.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = wanted.filter((s) => !(SECTION_IDS as readonly string[]).includes(s));
    if (unknown.length > 0) throw new Error(`unknown section(s) ${unknown.join(', ')}\n${USAGE}`);
    sections = new Set(wanted as SectionId[]);
  }
  // A quick or partial run must not overwrite the committed full results.
  const partial = quick || values.only !== undefined || values.bytes !== undefined;
  const defaultOut = partial ? path.join(REPO_ROOT, '.cache', 'bench', 'RESULTS.partial.md') : path.join(BENCH_DIR, 'RESULTS.md');
  return {
    quick,
    sections,
    rounds: positiveInt(values.rounds, 'rounds') ?? (quick ? 3 : 7),
    transferBytes: values.bytes !== undefined ? parseSize(values.bytes) : quick ? 64 * 1024 ** 2 : 1024 ** 3,
    transferRounds: quick ? 2 : 3,
    streams: positiveInt(values.streams, 'streams') ?? (quick ? 100 : 500),
    streamHoldMs: quick ? 3_000 : 10_000,
    clients: positiveInt(values.clients, 'clients') ?? (quick ? 50 : 200),
    clientsMs: quick ? 2_000 : 5_000,
    startups: quick ? 3 : 7,
    scalingIterations: quick ? 6 : 45,
    policySizes: [10, 50, 100, 200],
    bodySizes: [1_000, 10_000, 100_000, 1_000_000],
    profile: values.profile,
    out: values.out !== undefined ? path.resolve(values.out) : defaultOut,
    argv,
  };
}
