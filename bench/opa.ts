// The OPA sidecar peer: `opa run --server` (the pinned opa, via scripts/opa.sh) on a unix socket,
// loaded with the Rego sources the bundle dockgate runs was built from (policy/bundles.txt names
// them; the .rego files inside a wasm bundle lack the compiled entrypoint rules, so they cannot
// be served as they are). Its decision and access logs are off (--log-level error): the fastest
// way to run it, which makes dockgate's comparison the harder one.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startChild, waitUntilServing, type Child } from './processes.js';
import { OPA_SCRIPT, REPO_ROOT } from './repo.js';

export interface OpaPeer {
  socketPath: string;
  process: Child;
  version: string;
  /** The bundle's source roots (several for a multi-root bundle such as lib+profiles). */
  sourceDirs: string[];
}

/**
 * The source roots policy/bundles.txt lists for policy/dist/<name>.tar.gz: one directory under
 * policy/, or several joined by '+' (lib+profiles), loaded side by side as opa build does.
 */
export function bundleSourceDirs(bundle: string): string[] {
  const name = path.basename(bundle).replace(/\.tar\.gz$/, '');
  const list = readFileSync(path.join(REPO_ROOT, 'policy', 'bundles.txt'), 'utf8');
  const line = list.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[0] === name);
  const dirs = (line?.[1] ?? '').split('+').filter((d) => d !== '').map((d) => path.join(REPO_ROOT, 'policy', d));
  if (dirs.length === 0 || !dirs.every((d) => existsSync(d))) throw new Error(`policy/bundles.txt names no source directory for ${name}: the OPA sidecar needs the Rego sources`);
  return dirs;
}

export function opaVersion(): string {
  const out = execFileSync(OPA_SCRIPT, ['version'], { encoding: 'utf8' });
  return /^Version:\s*(\S+)/m.exec(out)?.[1] ?? out.split('\n')[0]!;
}

export async function startOpa(workDir: string, bundle: string): Promise<OpaPeer> {
  const dir = path.join(workDir, 'opa');
  mkdirSync(dir, { recursive: true });
  const sourceDirs = bundleSourceDirs(bundle);
  const socketPath = path.join(dir, 'opa.sock');
  const version = opaVersion();
  const since = process.hrtime.bigint();
  const child = startChild(
    'opa',
    OPA_SCRIPT,
    ['run', '--server', '--addr', `unix://${socketPath}`, '--log-level', 'error', '--skip-version-check', '--ignore', '*_test.rego', ...sourceDirs],
    path.join(dir, 'opa.log'),
  );
  await waitUntilServing(child, socketPath, '/health', since, 60_000);
  return { socketPath, process: child, version, sourceDirs };
}
