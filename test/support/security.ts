import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { engineContext, type EngineContext } from './context.js';
import { snapshot, removeByPrefix, type DaemonSnapshot } from './daemon-state.js';
import { startDockgate, type Dockgate } from './dockgate.js';
import { uniqueName } from './fixtures.js';
import { ensurePolicyBundle } from './policy-bundle.js';
import { describeExchange, sendRaw, type RawExchange, type RawResponse, type RawSendOptions } from './raw-http.js';
import { REPO_ROOT } from './repo.js';

// The fixture of the security tests (test/security/): dockgate with the test policy that denies
// privileged containers and host mounts (policy/test/deny-privileged), a per-file name prefix
// for everything the tests create, and the assertion that a refusal is dockgate's own.

export const DENY_PRIVILEGED = 'test-deny-privileged';
export const DENY_PRIVILEGED_BUNDLE = path.join(REPO_ROOT, 'policy', 'dist', `${DENY_PRIVILEGED}.tar.gz`);

export interface GuardedFixture extends EngineContext {
  dockgate: Dockgate;
  /** Prefix of every container/volume name this file creates (removed after the file). */
  prefix: string;
  /** A fresh name under the file's prefix. */
  name(tag: string): string;
  /** Raw bytes to dockgate's socket. */
  send(data: string | Buffer | (string | Buffer)[], opts?: RawSendOptions): Promise<RawExchange>;
  /** The daemon's containers and volumes now (taken directly at the daemon). */
  snapshot(): Promise<DaemonSnapshot>;
}

/**
 * Starts dockgate with the deny-privileged test policy for the whole file. On a failed test
 * dockgate's log is printed; after the file everything named with the file's prefix is removed
 * at the daemon.
 */
export function useGuardedDockgate(fileTag: string): () => GuardedFixture {
  let fixture: GuardedFixture | undefined;
  const prefix = uniqueName(`sec-${fileTag}`);
  beforeAll(async () => {
    await ensurePolicyBundle(DENY_PRIVILEGED);
    const ctx = engineContext();
    const dockgate = await startDockgate({ upstream: ctx.dockerHost, policy: DENY_PRIVILEGED_BUNDLE });
    let n = 0;
    fixture = {
      ...ctx,
      dockgate,
      prefix,
      name: (tag) => `${prefix}-${tag}-${++n}`,
      send: (data, opts) => sendRaw(dockgate.socketPath, data, opts),
      snapshot: () => snapshot(ctx.dockerSocket),
    };
  });
  afterEach((t) => {
    if (t.task.result?.state === 'fail' && fixture) {
      console.log(`--- dockgate log (last 6000 chars) after failed test "${t.task.name}":\n${fixture.dockgate.logs().slice(-6000)}`);
    }
  });
  afterAll(async () => {
    if (!fixture) return;
    await removeByPrefix(fixture.dockerSocket, prefix);
    await fixture.dockgate.stop();
  });
  return () => {
    if (!fixture) throw new Error('useGuardedDockgate(): the fixture is only available inside tests');
    return fixture;
  };
}

/**
 * Response `index` of the exchange is a refusal by dockgate itself: one of `statuses`, with
 * Docker's error shape `{"message": "dockgate: …"}` (what the docker CLI prints).
 */
export function expectDockgateRefusal(
  sent: string | Buffer | (string | Buffer)[],
  x: RawExchange,
  statuses: number[],
  index = 0,
): RawResponse {
  const detail = describeExchange(sent, x);
  const res = x.responses[index];
  expect(res, `no response #${index}\n${detail}`).toBeDefined();
  expect(statuses, `status ${res!.status} is not one of ${statuses.join('/')}\n${detail}`).toContain(res!.status);
  expect(res!.header('content-type'), detail).toMatch(/^application\/json\b/);
  let message: unknown;
  try {
    message = res!.json<{ message?: unknown }>().message;
  } catch {
    message = undefined;
  }
  expect(message, `not a Docker error body\n${detail}`).toEqual(expect.stringMatching(/^dockgate: \S/));
  return res!;
}

/** Docker's error message of a response (or its text when it is not JSON). */
export function messageOf(res: RawResponse | undefined): string {
  if (!res) return '(no response)';
  try {
    const m = res.json<{ message?: unknown }>().message;
    return typeof m === 'string' ? m : res.text();
  } catch {
    return res.text();
  }
}
