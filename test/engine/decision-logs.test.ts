import { promises as fs } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { engineContext } from '../support/context.js';
import { startCollector, type DecisionCollector } from '../support/decision-collector.js';
import { engineRequest } from '../support/engine-api.js';
import { ensurePolicyBundle } from '../support/policy-bundle.js';
import { scrape, sumOf } from '../support/prometheus.js';
import { createBody, logLines, startWithConfig, stopAfterTests, waitForAnswer, type ConfiguredDockgate } from '../support/policy-distribution.js';
import { DENY_PRIVILEGED, DENY_PRIVILEGED_BUNDLE } from '../support/security.js';

// Decision-log shipping in OPA's format: events POSTed as gzip JSON batches to a collector (a
// small HTTP server in the test) and appended to a file, with configured input paths erased;
// uploads retried while the collector fails; a bounded buffer that drops and counts.

const running: { gate?: ConfiguredDockgate; collector?: DecisionCollector }[] = [];

async function setUp(decisionLogs: Record<string, unknown>, admin = false): Promise<{ gate: ConfiguredDockgate; collector: DecisionCollector }> {
  const collector = await startCollector();
  running.push({ collector });
  const gate = await startWithConfig(engineContext().dockerHost, {
    policy: DENY_PRIVILEGED_BUNDLE,
    decisionLogs: { url: collector.url, uploadMinDelaySeconds: 0.1, uploadMaxDelaySeconds: 0.2, retryMaxDelaySeconds: 0.4, ...decisionLogs },
  }, { admin });
  running.push({ gate });
  return { gate, collector };
}

// A judged request the test can find again in the log: the marker is in the query.
const listWith = (socket: string, marker: string) => engineRequest(socket, 'GET', `/v1.41/containers/json?label=${marker}`);
const markerOf = (e: Record<string, unknown>) => ((e.input as { request?: { query?: Record<string, string[]> } }).request?.query?.label ?? [])[0];

beforeAll(async () => {
  await ensurePolicyBundle(DENY_PRIVILEGED);
});
stopAfterTests(running);

describe('decision logs', () => {
  test('events reach the collector (gzip, OPA fields) and the file, with masked paths erased', async () => {
    const dir = await fs.mkdtemp('/tmp/dgg-dl-');
    const file = path.join(dir, 'decisions.jsonl');
    try {
      const { gate, collector } = await setUp({ file, mask: ['/input/object/Env', '/input/object/HostConfig/Binds'], labels: { cluster: 'test-cluster' } });
      const socket = gate.dockgate.socketPath;
      const withSecret = (privileged: boolean) => JSON.stringify({ ...JSON.parse(createBody(privileged)), Env: ['TOKEN=hunter2'], HostConfig: { Privileged: privileged, Binds: ['/srv:/srv'] } });
      const denied = await engineRequest(socket, 'POST', '/v1.41/containers/create', { body: withSecret(true) });
      expect(denied.status).toBe(403);
      await listWith(socket, 'dl-1');

      const arrived = await waitForAnswer(async () => collector.events.length >= 2, true);
      expect(arrived, JSON.stringify(collector.uploads)).toBe(true);
      expect(collector.uploads.filter((u) => u.status === 200).every((u) => u.contentEncoding === 'gzip' && u.contentType === 'application/json')).toBe(true);
      const create = collector.events.find((e) => (e.input as { operation?: string }).operation === 'create')!;
      expect(create).toMatchObject({
        decision_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        path: 'dockgate/test/decision',
        input: { kind: 'container', operation: 'create', object: { Image: expect.any(String), HostConfig: { Privileged: true } } },
        result: { allowed: false, violations: expect.arrayContaining([expect.objectContaining({ rule: 'no-privileged', action: 'deny' })]) },
        labels: { id: expect.any(String), version: expect.any(String), app: 'dockgate', cluster: 'test-cluster' },
        bundles: { dockgate: { revision: expect.stringMatching(/^test-deny-privileged-/) } },
        erased: ['/input/object/Env', '/input/object/HostConfig/Binds'],
      });
      expect(new Date(create.timestamp as string).toISOString()).toBe(create.timestamp);
      const object = (create.input as { object: Record<string, unknown> }).object;
      expect(object).not.toHaveProperty('Env');
      expect(object.HostConfig).not.toHaveProperty('Binds');
      expect(JSON.stringify(collector.events)).not.toContain('hunter2');
      const list = collector.events.find((e) => markerOf(e) === 'dl-1')!;
      expect(list).toMatchObject({ result: { allowed: true } });
      expect(list).not.toHaveProperty('erased');

      // The file holds the same events, one JSON object per line.
      const inFile = await waitForAnswer(async () => (await fs.readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).length >= 2, true);
      expect(inFile).toBe(true);
      const lines = (await fs.readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map((l) => l.decision_id).sort()).toEqual(collector.events.map((e) => e.decision_id).sort());
      expect(await fs.readFile(file, 'utf8')).not.toContain('hunter2');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('a collector that fails and recovers gets every event once (retried with backoff)', async () => {
    const { gate, collector } = await setUp({});
    collector.failWith(503);
    const markers = Array.from({ length: 20 }, (_, i) => `retry-${i}`);
    for (const m of markers) expect((await listWith(gate.dockgate.socketPath, m)).status).toBe(200);
    const retried = await waitForAnswer(async () => collector.uploads.filter((u) => u.status === 503).length >= 3, true);
    expect(retried).toBe(true);
    expect(logLines(gate.dockgate).some((l) => l.msg === 'decision log upload failed; will retry')).toBe(true);
    collector.failWith(null);
    const all = await waitForAnswer(async () => collector.events.length >= markers.length, true);
    expect(all).toBe(true);
    expect(collector.events.map(markerOf).sort()).toEqual([...markers].sort());
  });

  test('past the buffer bound the oldest events are dropped and counted; the newest arrive', async () => {
    const { gate, collector } = await setUp({ maxBufferBytes: 8192 }, true);
    collector.failWith(500);
    const markers = Array.from({ length: 40 }, (_, i) => `drop-${i}`);
    for (const m of markers) expect((await listWith(gate.dockgate.socketPath, m)).status).toBe(200);
    expect(await waitForAnswer(async () => logLines(gate.dockgate).some((l) => String(l.msg).startsWith('decision log events dropped')), true)).toBe(true);
    const droppedMetric = sumOf(await scrape(gate.dockgate.adminSocket!), 'dockgate_decision_log_dropped_total', { sink: 'upload' });
    collector.failWith(null);
    // Stopping ships what is left and logs the totals.
    await waitForAnswer(async () => collector.events.length > 0, true);
    await gate.dockgate.stop();
    const closed = logLines(gate.dockgate).find((l) => l.msg === 'decision log closed')!;
    expect(closed, 'no "decision log closed" line').toBeDefined();
    const received = collector.events.map(markerOf);
    expect(Number(closed.dropped)).toBeGreaterThan(0);
    expect(droppedMetric).toBe(Number(closed.dropped));
    expect(Number(closed.dropped) + received.length + Number(closed.unsent)).toBe(markers.length);
    expect(received).toContain('drop-39');
    expect(received).not.toContain('drop-0');
  });
});
