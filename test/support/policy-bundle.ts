import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runCommand } from './docker-cli.js';
import { REPO_ROOT } from './repo.js';

// The policy bundles the engine tests run dockgate with, from policy/bundles.txt, built by
// scripts/build-policy.sh (`npm run policy:build`; CI runs it before the tests).

/** Allows every request: the transparent-proxy tests measure the proxying, with the admission
 * pipeline (classify, canonicalize, evaluate) in place. */
export const ALLOW_ALL_BUNDLE = path.join(REPO_ROOT, 'policy', 'dist', 'test-allow-all.tar.gz');

export async function ensurePolicyBundle(name: string): Promise<'fresh' | 'built'> {
  const list = await fs.readFile(path.join(REPO_ROOT, 'policy', 'bundles.txt'), 'utf8');
  const line = list.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[0] === name);
  if (!line || line[1] === undefined) throw new Error(`policy bundle ${name} is not listed in policy/bundles.txt`);
  const bundle = path.join(REPO_ROOT, 'policy', 'dist', `${name}.tar.gz`);
  // The committed bundle is the one under test: CI checks that it rebuilds byte for byte from its
  // sources (scripts/build-policy.sh --check), and file dates of a fresh clone say nothing.
  if (await fs.stat(bundle).then(() => true, () => false)) return 'fresh';
  const r = await runCommand(path.join(REPO_ROOT, 'scripts', 'build-policy.sh'), [name], { cwd: REPO_ROOT, timeoutMs: 900_000 });
  if (r.code !== 0) throw new Error(`scripts/build-policy.sh ${name} failed:\n${r.stdout}${r.stderr}`);
  return 'built';
}
