// dockgate as users run it: `node dist/cli/main.js serve` on its own unix socket in front of the
// daemon, logging (info, one line per decision) to a file. Start-up is timed from just before
// the spawn to the first /_ping it answers (which goes through the whole admission pipeline).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readMemory, startChild, waitUntilServing, type Child, type Memory } from './processes.js';
import { CLI_ENTRY } from './repo.js';

export interface DockgateOptions {
  daemonSocket: string;
  policy: string;
  entrypoint?: string;
  /** Extra environment, e.g. NODE_OPTIONS=--cpu-prof for a profiled run. */
  env?: NodeJS.ProcessEnv;
  /** Parent directory for the socket and log. */
  workDir: string;
  /** A config file's YAML, passed with --config. */
  config?: string;
}

export interface DockgatePeer {
  socketPath: string;
  process: Child;
  /** Spawn to first served request, ms. */
  startupMs: number;
  memory(): Memory;
  stop(): Promise<void>;
}

export async function startDockgate(opts: DockgateOptions): Promise<DockgatePeer> {
  const dir = mkdtempSync(path.join(opts.workDir, 'dg-'));
  const socketPath = path.join(dir, 'dockgate.sock');
  const args = [
    CLI_ENTRY,
    'serve',
    '--listen',
    `unix://${socketPath}`,
    '--upstream',
    `unix://${opts.daemonSocket}`,
    '--policy',
    opts.policy,
    ...(opts.entrypoint ? ['--entrypoint', opts.entrypoint] : []),
  ];
  if (opts.config !== undefined) {
    writeFileSync(path.join(dir, 'dockgate.yaml'), opts.config);
    args.push('--config', path.join(dir, 'dockgate.yaml'));
  }
  const since = process.hrtime.bigint();
  const child = startChild('dockgate', process.execPath, args, path.join(dir, 'dockgate.log'), { ...process.env, ...opts.env });
  const startupMs = await waitUntilServing(child, socketPath, '/_ping', since);
  return {
    socketPath,
    process: child,
    startupMs,
    memory: () => readMemory(child.pid),
    async stop() {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
