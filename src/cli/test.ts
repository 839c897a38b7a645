// `dockgate test SUITE`: run policy fixture cases on the real wasm runtime (src/offline/fixtures.ts).
import { parseArgs } from 'node:util';
import { EMBEDDED_BUNDLE } from '../policy/default-policy.js';
import { FixtureError, loadCases, runCases, suiteFiles } from '../offline/fixtures.js';

export const TEST_USAGE = `Usage:
  dockgate test [--policy BUNDLE] [--entrypoint NAME] [--run REGEX] [--verbose] SUITE…

Runs policy fixture cases (a .json file, or every .json file of a directory; format in
policy/fixtures/README.md) against the bundle (default: the embedded one) with dockgate's own
evaluation path on the compiled wasm. Exit status: 0 all passed, 1 a case failed, 2 usage or load error.
`;

export async function runTest(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        policy: { type: 'string' },
        entrypoint: { type: 'string' },
        run: { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    process.stderr.write(`dockgate test: ${(err as Error).message}\n\n${TEST_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(TEST_USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    process.stderr.write(`dockgate test: no SUITE given\n\n${TEST_USAGE}`);
    return 2;
  }
  let filter: RegExp | undefined;
  try {
    filter = values.run !== undefined ? new RegExp(values.run) : undefined;
  } catch (err) {
    process.stderr.write(`dockgate test: --run: ${(err as Error).message}\n`);
    return 2;
  }
  let results;
  try {
    const cases = positionals.flatMap(suiteFiles).flatMap(loadCases);
    results = await runCases(cases, {
      bundle: values.policy ?? EMBEDDED_BUNDLE,
      ...(values.entrypoint !== undefined ? { entrypoint: values.entrypoint } : {}),
      ...(filter ? { filter } : {}),
    });
  } catch (err) {
    if (!(err instanceof FixtureError)) throw err;
    process.stderr.write(`dockgate test: ${err.message}\n`);
    return 2;
  }
  const failed = results.filter((r) => r.failures.length > 0);
  for (const r of results) {
    if (r.failures.length > 0) {
      process.stdout.write(`FAIL ${r.file}: ${r.name}\n${r.failures.map((f) => `    ${f}`).join('\n')}\n`);
    } else if (values.verbose) {
      process.stdout.write(`ok   ${r.file}: ${r.name}\n`);
    }
  }
  if (results.length === 0) {
    process.stdout.write('no cases matched\n');
    return 1;
  }
  process.stdout.write(`${results.length - failed.length} passed, ${failed.length} failed (${results.length} cases)\n`);
  return failed.length > 0 ? 1 : 0;
}
