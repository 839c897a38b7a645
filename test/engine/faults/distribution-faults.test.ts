import { promises as fs } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { startBundleServer, type TestBundleServer } from '../../support/bundle-server.js';
import { engineContext } from '../../support/context.js';
import { engineRequest } from '../../support/engine-api.js';
import { sleep } from '../../support/fixtures.js';
import { ensurePolicyBundle } from '../../support/policy-bundle.js';
import { DENY_PRIVILEGED_BUNDLE, policyInForce, startWithConfig, stopAfterTests, type ConfiguredDockgate } from '../../support/policy-distribution.js';
import { openFds } from '../../support/process-resources.js';
import { DENY_PRIVILEGED } from '../../support/security.js';

// Faults of policy distribution and decision logging: the bundle server failing or gone, and the
// decision-log disk full. The policy in force keeps being enforced, clients keep being served,
// the failure is logged, and dockgate's descriptors do not grow while it keeps retrying.

const running: { gate?: ConfiguredDockgate; server?: TestBundleServer }[] = [];
let denyPrivileged: Buffer;

beforeAll(async () => {
  await ensurePolicyBundle(DENY_PRIVILEGED);
  denyPrivileged = await fs.readFile(DENY_PRIVILEGED_BUNDLE);
});
stopAfterTests(running);

const benignList = (socket: string) => engineRequest(socket, 'GET', '/v1.41/containers/json?all=1');

describe('distribution faults', () => {
  test('bundle server failing, then gone: the policy in force stays enforced, clients are served, no fd growth', async () => {
    const server = await startBundleServer();
    running.push({ server });
    server.setBundle(denyPrivileged, '"v1"');
    const gate = await startWithConfig(engineContext().dockerHost, {
      policyWorkers: 1,
      bundleService: { url: server.url, pollingMinDelaySeconds: 0.1, pollingMaxDelaySeconds: 0.2 },
    });
    running.push({ gate });
    const { dockgate, logLines } = gate;
    expect(await policyInForce(dockgate.socketPath)).toBe('deny-privileged');
    expect((await benignList(dockgate.socketPath)).status).toBe(200);
    await sleep(500);
    const baseline = await openFds(dockgate.pid);

    server.failWith(503);
    const failedPolls = () => server.requests.filter((r) => r.status === 503).length;
    while (failedPolls() < 5) await sleep(100);
    expect(await policyInForce(dockgate.socketPath)).toBe('deny-privileged');
    expect((await benignList(dockgate.socketPath)).status).toBe(200);

    // Gone altogether: connections refused on every poll.
    await server.close();
    const failuresBefore = logLines().filter((l) => l.msg === 'bundle download failed; the current policy stays in force').length;
    await sleep(2_000);
    const failures = logLines().filter((l) => l.msg === 'bundle download failed; the current policy stays in force').length;
    expect(failures, 'dockgate stopped retrying the bundle server').toBeGreaterThan(failuresBefore + 2);
    expect(await policyInForce(dockgate.socketPath)).toBe('deny-privileged');
    expect((await benignList(dockgate.socketPath)).status).toBe(200);
    expect(await openFds(dockgate.pid), 'descriptors grew with the failed polls').toBeLessThanOrEqual(baseline);
    expect(dockgate.child.exitCode).toBeNull();
  });

  test('decision-log disk full (/dev/full): requests are judged and served, the failure logged, events counted as dropped', async () => {
    const gate = await startWithConfig(engineContext().dockerHost, {
      policy: DENY_PRIVILEGED_BUNDLE,
      policyWorkers: 1,
      decisionLogs: { file: '/dev/full' },
    });
    running.push({ gate });
    const { dockgate, logLines } = gate;
    for (let i = 0; i < 20; i++) {
      expect((await benignList(dockgate.socketPath)).status).toBe(200);
      expect(await policyInForce(dockgate.socketPath)).toBe('deny-privileged');
    }
    expect(logLines().some((l) => l.msg === 'decision log file cannot be written' && /ENOSPC/.test(String(l.err)))).toBe(true);
    expect(dockgate.child.exitCode).toBeNull();
    await gate.stop();
    // On shutdown the count of what could not be logged is reported.
    const closed = logLines().find((l) => l.msg === 'decision log closed');
    expect(Number(closed?.dropped)).toBeGreaterThan(0);
  });
});
