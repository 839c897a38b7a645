import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Where the repository is, and which Node runs the project (24, from node_modules/.bin).

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const CLI_ENTRY = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

/**
 * The Node binary for dockgate and the build: the one running the tests when it is recent enough
 * (npx/npm put node_modules/.bin first on PATH), else the project's own `node` package.
 */
export function nodeBinary(): string {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= 22) return process.execPath;
  const local = path.join(REPO_ROOT, 'node_modules', '.bin', 'node');
  if (existsSync(local)) return local;
  throw new Error(`Node ${process.versions.node} is too old for dockgate and ${local} is missing: run npm ci`);
}
