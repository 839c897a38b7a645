// Starts bench/bare-proxy.ts (compiled next to this module) as a child process: the reference
// column "node:http (bare)" of the passthrough, throughput and memory figures.
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, waitUntilServing, type Child } from './processes.js';

export const BARE = 'node:http (bare)';

export interface ReferenceProxy {
  socketPath: string;
  process: Child;
}

export async function startReferenceProxy(workDir: string, daemonSocket: string): Promise<ReferenceProxy> {
  const dir = mkdtempSync(path.join(workDir, 'bare-'));
  const socketPath = path.join(dir, 'bare.sock');
  const script = fileURLToPath(new URL('./bare-proxy.js', import.meta.url));
  const since = process.hrtime.bigint();
  const child = startChild('bare node:http proxy', process.execPath, [script, socketPath, daemonSocket], path.join(dir, 'bare.log'));
  await waitUntilServing(child, socketPath, '/_ping', since);
  return { socketPath, process: child };
}
