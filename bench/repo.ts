// Where the repository and its tools are. The benchmark is compiled into .cache/bench/ (see
// bench/tsconfig.json), so paths are found from the working directory npm runs scripts in (the
// package root), checked, rather than from this file's compiled location.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

function findRepoRoot(): string {
  let dir = process.cwd();
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'dockgate') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`run the benchmark from the dockgate repository (npm run bench); ${process.cwd()} is not inside it`);
    dir = parent;
  }
}

export const REPO_ROOT = findRepoRoot();
export const CLI_ENTRY = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
export const OPA_BIN = path.join(REPO_ROOT, '.cache', 'bin', 'opa');
export const OPA_SCRIPT = path.join(REPO_ROOT, 'scripts', 'opa.sh');
export const CAPABILITIES = path.join(REPO_ROOT, 'policy', 'capabilities.json');
export const BENCH_DIR = path.join(REPO_ROOT, 'bench');

/** The shipped baseline bundle when it has been built, else the test policy that denies privileged containers. */
export const BASELINE_BUNDLE = { file: path.join(REPO_ROOT, 'policy', 'dist', 'dockgate.tar.gz'), entrypoint: 'dockgate/admission/decision' };
export const FALLBACK_BUNDLE = { file: path.join(REPO_ROOT, 'policy', 'dist', 'test-deny-privileged.tar.gz'), entrypoint: 'dockgate/test/decision' };
/** A policy that allows everything and changes nothing: dockgate's pipeline without the policy's own work. */
export const ALLOW_ALL_BUNDLE = { file: path.join(REPO_ROOT, 'policy', 'dist', 'test-allow-all.tar.gz'), entrypoint: 'dockgate/test/allowall/decision' };
