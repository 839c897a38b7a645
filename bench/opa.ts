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
  sourceDir: string;
}

/** The source directory policy/bundles.txt lists for policy/dist/<name>.tar.gz. */
export function bundleSourceDir(bundle: string): string {
  const name = path.basename(bundle).replace(/\.tar\.gz$/, '');
  const list = readFileSync(path.join(REPO_ROOT, 'policy', 'bundles.txt'), 'utf8');
  const line = list.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[0] === name);
  const dir = line?.[1] !== undefined ? path.join(REPO_ROOT, 'policy', line[1]) : undefined;
  if (dir === undefined || !existsSync(dir)) throw new Error(`policy/bundles.txt names no source directory for ${name}: the OPA sidecar needs the Rego sources`);
  return dir;
}

export function opaVersion(): string {
  const out = execFileSync(OPA_SCRIPT, ['version'], { encoding: 'utf8' });
  return /^Version:\s*(\S+)/m.exec(out)?.[1] ?? out.split('\n')[0]!;
}

export async function startOpa(workDir: string, bundle: string): Promise<OpaPeer> {
  const dir = path.join(workDir, 'opa');
  mkdirSync(dir, { recursive: true });
  const sourceDir = bundleSourceDir(bundle);
  const socketPath = path.join(dir, 'opa.sock');
  const version = opaVersion();
  const since = process.hrtime.bigint();
  const child = startChild(
    'opa',
    OPA_SCRIPT,
    ['run', '--server', '--addr', `unix://${socketPath}`, '--log-level', 'error', '--skip-version-check', '--ignore', '*_test.rego', sourceDir],
    path.join(dir, 'opa.log'),
  );
  await waitUntilServing(child, socketPath, '/health', since, 60_000);
  return { socketPath, process: child, version, sourceDir };
}
