import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runCommand } from './docker-cli.js';
import { CLI_ENTRY, REPO_ROOT, nodeBinary } from './repo.js';

// Engine tests run the compiled CLI (dist/), as users do. `npm test` builds first; this catches
// a direct `npx vitest run --project engine` after editing src/ without rebuilding.

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const st = await fs.stat(path.join(entry.parentPath, entry.name));
    newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

async function mtimeOrZero(file: string): Promise<number> {
  return fs.stat(file).then(
    (st) => st.mtimeMs,
    () => 0,
  );
}

/**
 * Runs `tsc -p tsconfig.build.json` when dist/cli/main.js is missing or older than src/ or the
 * tsconfigs. DOCKGATE_TEST_SKIP_BUILD=1 uses dist/ as it is.
 */
export async function ensureDistBuilt(): Promise<'fresh' | 'built' | 'skipped'> {
  // For a shared working tree where someone else's half-written module does not compile yet.
  if (process.env.DOCKGATE_TEST_SKIP_BUILD === '1') return 'skipped';
  const built = await mtimeOrZero(CLI_ENTRY);
  const sources = Math.max(
    await newestMtime(path.join(REPO_ROOT, 'src')),
    await mtimeOrZero(path.join(REPO_ROOT, 'tsconfig.json')),
    await mtimeOrZero(path.join(REPO_ROOT, 'tsconfig.build.json')),
  );
  if (built > 0 && built >= sources) return 'fresh';
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = await runCommand(nodeBinary(), [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`build failed (tsc -p tsconfig.build.json):\n${r.stdout}${r.stderr}`);
  return 'built';
}
