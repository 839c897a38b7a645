// Starts a reference proxy (compiled next to this module) as a child process: the reference
// columns of the passthrough, admission, throughput and memory figures. Not peers: floors.
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, waitUntilServing, type Child } from './processes.js';

/** bench/bare-proxy.ts: the floor of any proxy built on node:http. */
export const BARE = 'node:http (bare)';
/** bench/byte-relay.ts: the floor of any proxy written for Node (bytes copied, nothing parsed). */
export const RELAY = 'Node byte relay';
export type ReferenceName = typeof BARE | typeof RELAY;
export const REFERENCES: readonly ReferenceName[] = [BARE, RELAY];

const SCRIPTS: Record<ReferenceName, { file: string; slug: string }> = {
  [BARE]: { file: 'bare-proxy.js', slug: 'bare' },
  [RELAY]: { file: 'byte-relay.js', slug: 'relay' },
};

export interface ReferenceProxy {
  socketPath: string;
  process: Child;
}

export function startReferenceProxy(workDir: string, daemonSocket: string, name: ReferenceName = BARE): Promise<ReferenceProxy> {
  const { file, slug } = SCRIPTS[name];
  return startScript(workDir, daemonSocket, name, file, slug, []);
}

/** bench/best-case-proxy.ts: the least an admission proxy in Node can do for a create (admission section). */
export const BEST_CASE = 'Node admission, best case';

export function startBestCaseProxy(workDir: string, daemonSocket: string, policy: { file: string; entrypoint: string }): Promise<ReferenceProxy> {
  return startScript(workDir, daemonSocket, BEST_CASE, 'best-case-proxy.js', 'best-case', [policy.file, policy.entrypoint]);
}

async function startScript(workDir: string, daemonSocket: string, name: string, file: string, slug: string, extraArgs: string[]): Promise<ReferenceProxy> {
  const dir = mkdtempSync(path.join(workDir, `${slug}-`));
  const socketPath = path.join(dir, `${slug}.sock`);
  const script = fileURLToPath(new URL(`./${file}`, import.meta.url));
  const since = process.hrtime.bigint();
  const child = startChild(`reference proxy ${name}`, process.execPath, [script, socketPath, daemonSocket, ...extraArgs], path.join(dir, `${slug}.log`));
  await waitUntilServing(child, socketPath, '/_ping', since);
  return { socketPath, process: child };
}
