// `npm run bench`: dockgate against direct, HAProxy and OPA in one run on this machine. Sets up a
// private dockerd and the peers, runs the sections in order, writes the markdown report and
// prints the summary block. A failing section is reported as such and the others still run.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setUp, type BenchEnv } from './environment.js';
import type { Section } from './figures.js';
import { parseOptions, type SectionId } from './options.js';
import { profileDockgate } from './profile.js';
import { renderReport, renderSummary, type SectionOutcome } from './report.js';
import { admission } from './sections/admission.js';
import { concurrency } from './sections/concurrency.js';
import { passthrough } from './sections/passthrough.js';
import { policyEval } from './sections/policy-eval.js';
import { scaling } from './sections/scaling.js';
import { startup } from './sections/startup.js';
import { throughput } from './sections/throughput.js';

const SECTIONS: { id: SectionId; title: string; run: (env: BenchEnv) => Promise<Section> }[] = [
  { id: 'passthrough', title: '1. Passthrough latency', run: passthrough },
  { id: 'admission', title: '2. Admission latency', run: admission },
  { id: 'eval', title: '2b. Policy decision', run: policyEval },
  { id: 'throughput', title: '3. Throughput', run: throughput },
  { id: 'concurrency', title: '4. Concurrency', run: concurrency },
  { id: 'startup', title: '4b. Start-up and idle memory', run: startup },
  { id: 'scaling', title: '5. Scaling', run: scaling },
];

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const began = Date.now();
  const env = await setUp(opts);
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: tearing down`);
    void env.teardown().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const outcomes: SectionOutcome[] = [];
  try {
    for (const s of SECTIONS) {
      if (!opts.sections.has(s.id)) continue;
      log(`${s.title} ...`);
      const started = Date.now();
      try {
        const section = await s.run(env);
        outcomes.push({ id: s.id, title: s.title, section, seconds: (Date.now() - started) / 1000 });
      } catch (err) {
        const e = err as Error;
        log(`${s.title} FAILED: ${e.stack ?? e.message}`);
        outcomes.push({ id: s.id, title: s.title, error: e.stack ?? e.message, seconds: (Date.now() - started) / 1000 });
      }
      log(`${s.title} done in ${Math.round((Date.now() - started) / 1000)} s`);
    }
    const missed = outcomes.some((o) => o.section?.figures.some((f) => f.targets.some((t) => t.pass === false)));
    if (opts.profile ?? (!opts.quick && missed)) {
      log('profiling dockgate (--cpu-prof) ...');
      const started = Date.now();
      try {
        outcomes.push({ id: 'profile', title: 'Profile', section: await profileDockgate(env), seconds: (Date.now() - started) / 1000 });
      } catch (err) {
        outcomes.push({ id: 'profile', title: 'Profile', error: (err as Error).stack ?? String(err), seconds: (Date.now() - started) / 1000 });
      }
    }
  } finally {
    await env.teardown();
  }

  const facts = {
    date: new Date(began),
    command: ['npm run bench', ...(opts.argv.length > 0 ? ['--', ...opts.argv] : [])].join(' '),
    machine: env.machine,
    loadAtEnd: os.loadavg(),
    policy: env.policy,
    durationSeconds: (Date.now() - began) / 1000,
    quick: opts.quick,
  };
  mkdirSync(path.dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, renderReport(facts, outcomes));
  process.stdout.write(`\n${renderSummary(facts, outcomes, path.relative(process.cwd(), opts.out))}\n`);
  return outcomes.some((o) => o.error) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
