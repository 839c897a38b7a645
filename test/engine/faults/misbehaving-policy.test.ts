import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { engineContext } from '../../support/context.js';
import { removeByPrefix } from '../../support/daemon-state.js';
import { startDockgate, type Dockgate } from '../../support/dockgate.js';
import { engineRequest, type EngineResponse } from '../../support/engine-api.js';
import { uniqueName } from '../../support/fixtures.js';
import { ensurePolicyBundle } from '../../support/policy-bundle.js';
import { openFds, rssBytes, settle } from '../../support/process-resources.js';
import { scrape, sumOf } from '../../support/prometheus.js';
import { REPO_ROOT } from '../../support/repo.js';
import { acceptedConnections } from '../../support/unix-connections.js';

// A policy that misbehaves (policy/test/misbehaving: spins for minutes, throws, never converges,
// exhausts its memory cap) must cost only the request that triggered it: that request is denied
// with a message saying why, nothing is created, every other client keeps being served (a decision
// runs on the event loop within policyInlineSteps, and one that needs more in a worker thread under
// policyDeadlineMs), and repeating it leaks nothing.

const BUNDLE = path.join(REPO_ROOT, 'policy', 'dist', 'test-misbehaving.tar.gz');
const DEADLINE_MS = 3000;
const prefix = uniqueName('dgt-mis');
let n = 0;

let dockgate: Dockgate;
let dir: string;

beforeAll(async () => {
  await ensurePolicyBundle('test-misbehaving');
  dir = await fs.mkdtemp('/tmp/dgt-mis-');
  const config = path.join(dir, 'dockgate.yaml');
  await fs.writeFile(config, `policyWorkers: 2\npolicyDeadlineMs: ${DEADLINE_MS}\n`);
  dockgate = await startDockgate({ upstream: engineContext().dockerHost, policy: BUNDLE, admin: true, extraArgs: ['--config', config] });
});

afterAll(async () => {
  await dockgate?.stop();
  await removeByPrefix(engineContext().dockerSocket, prefix);
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

function create(mode: string | undefined): { name: string; done: Promise<EngineResponse> } {
  const name = `${prefix}-${mode ?? 'ok'}-${++n}`;
  const body = { Image: engineContext().testImage, Cmd: ['true'], Labels: mode ? { 'dockgate.test/misbehave': mode } : {} };
  return { name, done: engineRequest(dockgate.socketPath, 'POST', `/v1.41/containers/create?name=${name}`, { body: JSON.stringify(body), timeoutMs: 60_000 }) };
}

async function expectDenied(mode: string, status: number, message: RegExp): Promise<void> {
  const { name, done } = create(mode);
  const res = await done;
  expect(res.status, res.text()).toBe(status);
  expect(res.json<{ message: string }>().message).toMatch(message);
  const probe = await engineRequest(engineContext().dockerSocket, 'GET', `/containers/${name}/json`);
  expect(probe.status, `${mode}: denied, yet ${name} exists at the daemon`).toBe(404);
}

describe('a misbehaving policy', () => {
  test('decisions within the step budget start no worker; a spinning one is handed over to a worker', async () => {
    // (first in the file: no worker has been started yet)
    const admin = dockgate.adminSocket!;
    expect((await create(undefined).done).status).toBe(201);
    let metrics = await scrape(admin);
    expect([sumOf(metrics, 'dockgate_policy_workers'), sumOf(metrics, 'dockgate_policy_handovers_total')]).toEqual([0, 0]);
    await expectDenied('spin', 500, /did not decide within/);
    metrics = await scrape(admin);
    expect(sumOf(metrics, 'dockgate_policy_handovers_total')).toBe(1);
    expect(sumOf(metrics, 'dockgate_policy_evaluations_stopped_total', { reason: 'deadline' })).toBe(1);
  });

  test('an evaluation that never ends is stopped at the deadline and denied; other clients are served meanwhile', async () => {
    let stuckAnswered = false;
    const stuck = create('spin');
    const stuckDone = stuck.done.then((r) => {
      stuckAnswered = true;
      return r;
    });
    // While that evaluation spins: requests that need the policy and requests that do not.
    const others = await Promise.all([
      create(undefined).done,
      engineRequest(dockgate.socketPath, 'GET', '/v1.41/containers/json?all=1'),
      engineRequest(dockgate.socketPath, 'GET', '/_ping'),
    ]);
    expect(others.map((r) => r.status)).toEqual([201, 200, 200]);
    expect(stuckAnswered, 'the other clients were only answered after the stuck evaluation ended').toBe(false);

    const res = await stuckDone;
    expect(res.status, res.text()).toBe(500);
    expect(res.json<{ message: string }>().message).toMatch(new RegExp(`^dockgate: request refused: the policy could not be evaluated .*did not decide within ${DEADLINE_MS} ms`));
    expect((await engineRequest(engineContext().dockerSocket, 'GET', `/containers/${stuck.name}/json`)).status).toBe(404);
    expect(dockgate.logs()).toMatch(/policy evaluation overran its deadline/);
  });

  test('a runtime error in the policy denies with its reason', async () => {
    await expectDenied('throw', 500, /the policy could not be evaluated .*var assignment conflict/);
  });

  test('mutations that never converge are denied', async () => {
    await expectDenied('flip', 500, /did not settle after 5 rounds/);
  });

  test('an evaluation over the wasm memory cap is denied', async () => {
    await expectDenied('memory', 500, /policy memory limit/);
  });

  test('repeated faults leak nothing: connections, fds and memory stay level', async () => {
    const pid = dockgate.pid;
    const round = async () => {
      await Promise.all([
        expectDenied('spin', 500, /did not decide within/),
        expectDenied('throw', 500, /var assignment conflict/),
        expectDenied('memory', 500, /policy memory limit/),
      ]);
      expect((await create(undefined).done).status).toBe(201);
      expect(await settle(() => acceptedConnections(pid, dockgate.socketPath), 0)).toBe(0);
      return { fds: await openFds(pid), rss: await rssBytes(pid) };
    };
    const first = await round();
    await round();
    const third = await round();
    // The pool holds at most policyWorkers threads whatever happened before: no growth per round.
    expect(await settle(() => openFds(pid), first.fds)).toBeLessThanOrEqual(first.fds);
    expect(third.rss).toBeLessThan(first.rss + 64 * 1024 * 1024);
    expect(dockgate.child.exitCode).toBeNull();
  });
});
