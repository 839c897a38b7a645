import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { engineContext, type EngineContext } from './context.js';
import { startDockgate, type Dockgate, type DockgateOptions } from './dockgate.js';
import { TEST_LABEL } from './dockerd.js';

// Per-file fixtures for engine tests.

export interface DockgateFixture extends EngineContext {
  dockgate: Dockgate;
}

/**
 * Starts one dockgate in front of the test daemon for the whole file (beforeAll) and stops it
 * afterwards. When a test fails, dockgate's log is printed with it.
 */
export function useDockgate(opts: Partial<DockgateOptions> = {}): () => DockgateFixture {
  let fixture: DockgateFixture | undefined;
  beforeAll(async () => {
    const ctx = engineContext();
    const dockgate = await startDockgate({ upstream: ctx.dockerHost, ...opts });
    fixture = { ...ctx, dockgate };
  });
  afterEach((t) => {
    if (t.task.result?.state === 'fail' && fixture) {
      console.log(`--- dockgate log (last 6000 chars) after failed test "${t.task.name}":\n${fixture.dockgate.logs().slice(-6000)}`);
    }
  });
  afterAll(async () => {
    await fixture?.dockgate.stop();
  });
  return () => {
    if (!fixture) throw new Error('useDockgate(): the fixture is only available inside tests');
    return fixture;
  };
}

/** A container/project name unique to this run. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** `--label dockgate.test=1`, so cleanup finds the container even on a shared daemon. */
export const LABEL_ARGS = ['--label', TEST_LABEL] as const;

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
