import { generateKeyPairSync } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { startBundleServer, signBundle, type SigningKey, type TestBundleServer } from '../support/bundle-server.js';
import { engineContext } from '../support/context.js';
import { engineRequest } from '../support/engine-api.js';
import { ensurePolicyBundle } from '../support/policy-bundle.js';
import { scrape, sumOf } from '../support/prometheus.js';
import {
  ALLOW_ALL_BUNDLE,
  DENY_PRIVILEGED_BUNDLE,
  policyInForce,
  startWithConfig,
  stopAfterTests,
  waitForAnswer,
  type ConfiguredDockgate,
} from '../support/policy-distribution.js';
import { DENY_PRIVILEGED } from '../support/security.js';

// Policy bundles pulled from an OPA bundle server (a small HTTP server in the test): conditional
// polling with ETag/304, long polling, and signed bundles verified with keys from the config.

let allowAll: Buffer;
let denyPrivileged: Buffer;
const running: { server?: TestBundleServer; gate?: ConfiguredDockgate }[] = [];

async function setUp(server: TestBundleServer, config: Record<string, unknown>, opts: { files?: Record<string, string>; admin?: boolean } = {}): Promise<ConfiguredDockgate> {
  const gate = await startWithConfig(engineContext().dockerHost, config, opts);
  running.push({ server, gate });
  return gate;
}

async function newServer(opts: { longPolling?: boolean } = {}): Promise<TestBundleServer> {
  const server = await startBundleServer(opts);
  running.push({ server });
  return server;
}

beforeAll(async () => {
  await ensurePolicyBundle(DENY_PRIVILEGED);
  allowAll = await fs.readFile(ALLOW_ALL_BUNDLE);
  denyPrivileged = await fs.readFile(DENY_PRIVILEGED_BUNDLE);
});
stopAfterTests(running);

describe('bundle server', () => {
  test('polls with If-None-Match; 304 keeps the policy; a new ETag brings the new bundle', async () => {
    const server = await newServer();
    server.setBundle(allowAll, '"rev-1"');
    const { dockgate } = await setUp(server, { bundleService: { url: server.url, pollingMinDelaySeconds: 0.2, pollingMaxDelaySeconds: 0.4 } });
    // The first download happens before dockgate listens.
    expect(await policyInForce(dockgate.socketPath)).toBe('allow-all');
    expect(server.requests[0]).toMatchObject({ ifNoneMatch: undefined, status: 200 });
    const conditional = await waitForAnswer(async () => server.requests.some((r) => r.ifNoneMatch === '"rev-1"' && r.status === 304), true);
    expect(conditional, JSON.stringify(server.requests)).toBe(true);
    expect(server.requests.filter((r) => r.status === 200)).toHaveLength(1);

    server.setBundle(denyPrivileged, '"rev-2"');
    expect(await waitForAnswer(() => policyInForce(dockgate.socketPath), 'deny-privileged')).toBe('deny-privileged');
    const afterSwitch = await waitForAnswer(async () => server.requests.some((r) => r.ifNoneMatch === '"rev-2"' && r.status === 304), true);
    expect(afterSwitch, JSON.stringify(server.requests)).toBe(true);
    expect(server.requests.every((r) => r.prefer === undefined)).toBe(true);
  });

  test('long polling: the server holds the request and the change arrives without waiting for the next poll', async () => {
    const server = await newServer({ longPolling: true });
    server.setBundle(allowAll, '"lp-1"');
    // Polls an hour apart: only a held long poll can deliver the change within the test.
    const { dockgate } = await setUp(server, {
      bundleService: { url: server.url, pollingMinDelaySeconds: 3600, pollingMaxDelaySeconds: 3600, longPollingTimeoutSeconds: 60 },
    });
    expect(await policyInForce(dockgate.socketPath)).toBe('allow-all');
    const held = await waitForAnswer(async () => server.requests.some((r) => r.ifNoneMatch === '"lp-1"' && r.status === 0), true);
    expect(held, JSON.stringify(server.requests)).toBe(true);
    expect(server.requests.every((r) => r.prefer === 'wait=60')).toBe(true);
    server.setBundle(denyPrivileged, '"lp-2"');
    expect(await waitForAnswer(() => policyInForce(dockgate.socketPath), 'deny-privileged')).toBe('deny-privileged');
  });

  test('until a first bundle is downloaded every request is refused; then the policy serves', async () => {
    const server = await newServer();
    server.failWith(503);
    const { dockgate, logLines } = await setUp(server, { bundleService: { url: server.url, pollingMinDelaySeconds: 0.2, pollingMaxDelaySeconds: 0.4 } }, { admin: true });
    const res = await engineRequest(dockgate.socketPath, 'GET', '/v1.41/containers/json');
    expect(res.status).toBe(500);
    expect(res.text()).toContain('no policy bundle is active yet');
    const notReady = await engineRequest(dockgate.adminSocket!, 'GET', '/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.text()).toContain('no policy bundle is active yet');
    expect(logLines().some((l) => l.msg === 'bundle download failed; the current policy stays in force' && String(l.err).includes('503'))).toBe(true);
    server.failWith(null);
    server.setBundle(allowAll, '"late"');
    expect(await waitForAnswer(() => policyInForce(dockgate.socketPath), 'allow-all')).toBe('allow-all');
    expect((await engineRequest(dockgate.adminSocket!, 'GET', '/readyz')).status).toBe(200);
    const metrics = await scrape(dockgate.adminSocket!);
    expect(sumOf(metrics, 'dockgate_policy_reloads_total', { result: 'failure' })).toBeGreaterThan(0); // the failed downloads
    expect(sumOf(metrics, 'dockgate_policy_reloads_total', { result: 'success' })).toBe(1);
  });
});

describe('signed bundles', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rs256: SigningKey = { algorithm: 'RS256', privateKey: rsa.privateKey, kid: 'rsa-key' };
  const es256: SigningKey = { algorithm: 'ES256', privateKey: ec.privateKey, kid: 'ec-key' };
  const pem = (k: typeof rsa.publicKey) => k.export({ type: 'spki', format: 'pem' }).toString();

  test('RS256 and ES256 signed bundles are accepted; a bad signature or an unsigned bundle is refused and the old policy kept', async () => {
    const server = await newServer();
    server.setBundle(signBundle(allowAll, rs256), '"s-1"');
    // One key inline, one from a file next to the config.
    const { dockgate, logLines } = await setUp(
      server,
      {
        bundleService: { url: server.url, pollingMinDelaySeconds: 0.2, pollingMaxDelaySeconds: 0.4 },
        bundleSigning: { keys: { 'rsa-key': { algorithm: 'RS256', key: pem(rsa.publicKey) }, 'ec-key': { algorithm: 'ES256', keyFile: 'ec.pub.pem' } } },
      },
      { files: { 'ec.pub.pem': pem(ec.publicKey) }, admin: true },
    );
    expect(await policyInForce(dockgate.socketPath)).toBe('allow-all');

    server.setBundle(signBundle(denyPrivileged, es256), '"s-2"');
    expect(await waitForAnswer(() => policyInForce(dockgate.socketPath), 'deny-privileged')).toBe('deny-privileged');

    const rejections = () => logLines().filter((l) => l.msg === 'policy bundle rejected; the previous policy stays in force');
    // Signed with another RSA key under the configured key id.
    const forger: SigningKey = { algorithm: 'RS256', privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, kid: 'rsa-key' };
    server.setBundle(signBundle(allowAll, forger), '"s-3"');
    expect(await waitForAnswer(async () => rejections().some((l) => String(l.err).includes('does not verify with key "rsa-key"')), true)).toBe(true);
    server.setBundle(allowAll, '"s-4"');
    expect(await waitForAnswer(async () => rejections().some((l) => String(l.err).includes('not signed')), true)).toBe(true);
    expect(await policyInForce(dockgate.socketPath)).toBe('deny-privileged');
    const metrics = await scrape(dockgate.adminSocket!);
    expect(sumOf(metrics, 'dockgate_policy_reloads_total', { result: 'success' })).toBe(2);
    // The forged and the unsigned bundle at least (a rejected bundle is fetched again on each poll).
    expect(sumOf(metrics, 'dockgate_policy_reloads_total', { result: 'failure' })).toBeGreaterThanOrEqual(2);
    expect(metrics.filter((m) => m.name === 'dockgate_policy_info').map((m) => m.labels.revision)).toEqual([expect.stringMatching(/^test-deny-privileged-/)]);
  });
});
