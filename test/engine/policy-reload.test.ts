import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { engineContext } from '../support/context.js';
import { startDockgate, type Dockgate } from '../support/dockgate.js';
import { engineRequest } from '../support/engine-api.js';
import { ensurePolicyBundle } from '../support/policy-bundle.js';
import { scrape, sumOf } from '../support/prometheus.js';
import {
  ALLOW_ALL_BUNDLE,
  DENY_PRIVILEGED_BUNDLE,
  logLines,
  policyInForce,
  replaceFile,
  startLoad,
  waitForAnswer,
} from '../support/policy-distribution.js';
import { DENY_PRIVILEGED } from '../support/security.js';

// Live policy updates from a bundle file: dockgate reloads it when it changes and on SIGHUP,
// while requests keep flowing; a bundle that does not load is refused and the old one serves.

describe('policy bundle file reload', () => {
  let dir: string;
  let bundle: string;
  let dockgate: Dockgate;
  const logs = () => logLines(dockgate);

  beforeAll(async () => {
    await ensurePolicyBundle(DENY_PRIVILEGED);
    dir = await fs.mkdtemp('/tmp/dgg-reload-');
    bundle = path.join(dir, 'policy.tar.gz');
    await fs.copyFile(ALLOW_ALL_BUNDLE, bundle);
    dockgate = await startDockgate({ upstream: engineContext().dockerHost, policy: bundle, admin: true });
  });
  afterEach((t) => {
    if (t.task.result?.state === 'fail') console.log(`--- dockgate log:\n${dockgate.logs().slice(-6000)}`);
  });
  afterAll(async () => {
    await dockgate?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('the bundle is replaced several times under load: no request fails, decisions follow the file', async () => {
    expect(await policyInForce(dockgate.socketPath)).toBe('allow-all');
    const load = startLoad(dockgate.socketPath);
    const seen: string[] = [];
    for (const [src, want] of [
      [DENY_PRIVILEGED_BUNDLE, 'deny-privileged'],
      [ALLOW_ALL_BUNDLE, 'allow-all'],
      [DENY_PRIVILEGED_BUNDLE, 'deny-privileged'],
      [ALLOW_ALL_BUNDLE, 'allow-all'],
    ] as const) {
      await replaceFile(bundle, src);
      seen.push(await waitForAnswer(() => policyInForce(dockgate.socketPath), want));
    }
    const result = await load.stop();
    expect(seen).toEqual(['deny-privileged', 'allow-all', 'deny-privileged', 'allow-all']);
    expect(result.failures).toEqual([]);
    expect(result.ok).toBeGreaterThan(0);
    // Startup plus at least the four replacements (a rename can show as more than one change).
    expect(sumOf(await scrape(dockgate.adminSocket!), 'dockgate_policy_reloads_total', { result: 'success' })).toBeGreaterThanOrEqual(5);
    const activations = logs().filter((l) => l.msg === 'policy activated' && l.reason === 'file changed');
    expect(activations.map((l) => l.revision)).toEqual(expect.arrayContaining([expect.stringMatching(/^test-deny-privileged-/), expect.stringMatching(/^test-allow-all-/)]));
  });

  test('a corrupt bundle is rejected and logged; the old policy keeps serving', async () => {
    await replaceFile(bundle, DENY_PRIVILEGED_BUNDLE);
    expect(await waitForAnswer(() => policyInForce(dockgate.socketPath), 'deny-privileged')).toBe('deny-privileged');
    const rejectedBefore = logs().filter((l) => l.msg?.toString().startsWith('policy bundle rejected')).length;
    const corrupt = path.join(dir, 'corrupt.tar.gz');
    const good = await fs.readFile(DENY_PRIVILEGED_BUNDLE);
    await fs.writeFile(corrupt, good.subarray(0, good.length >> 1)); // a truncated archive
    await replaceFile(bundle, corrupt);
    const rejected = await waitForAnswer(async () => logs().filter((l) => l.msg?.toString().startsWith('policy bundle rejected')).length > rejectedBefore, true);
    expect(rejected, 'no rejection logged').toBe(true);
    expect(await policyInForce(dockgate.socketPath)).toBe('deny-privileged');
    const last = logs().filter((l) => l.msg?.toString().startsWith('policy bundle rejected')).at(-1)!;
    expect(last.level).toBe(50);
    expect(String(last.err)).toMatch(/gzip|truncated|archive/);
    // Counted, and the revision in force is still the old one; still ready.
    const metrics = await scrape(dockgate.adminSocket!);
    expect(sumOf(metrics, 'dockgate_policy_reloads_total', { result: 'failure' })).toBeGreaterThanOrEqual(1);
    expect(metrics.filter((m) => m.name === 'dockgate_policy_info').map((m) => m.labels.revision)).toEqual([expect.stringMatching(/^test-deny-privileged-/)]);
    expect((await engineRequest(dockgate.adminSocket!, 'GET', '/readyz')).status).toBe(200);
  });

  test('SIGHUP reloads the bundle file, also a change no file event shows', async () => {
    // The bundle becomes a symlink into a subdirectory; replacing the target there changes what
    // the path reads without any event in the watched directory: only SIGHUP picks it up.
    const realDir = path.join(dir, 'real');
    await fs.mkdir(realDir, { recursive: true });
    const target = path.join(realDir, 'policy.tar.gz');
    await fs.copyFile(ALLOW_ALL_BUNDLE, bundle);
    await fs.copyFile(DENY_PRIVILEGED_BUNDLE, target);
    expect(await waitForAnswer(() => policyInForce(dockgate.socketPath), 'allow-all')).toBe('allow-all');
    const link = path.join(dir, '.link.tmp');
    await fs.symlink(target, link);
    await fs.rename(link, bundle);
    // The swap itself is seen (a rename in the watched directory).
    expect(await waitForAnswer(() => policyInForce(dockgate.socketPath), 'deny-privileged')).toBe('deny-privileged');

    await replaceFile(target, ALLOW_ALL_BUNDLE);
    const sighups = () => logs().filter((l) => l.msg === 'policy activated' && l.reason === 'SIGHUP');
    const before = sighups().length;
    process.kill(dockgate.pid, 'SIGHUP');
    expect(await waitForAnswer(() => policyInForce(dockgate.socketPath), 'allow-all')).toBe('allow-all');
    expect(sighups()).toHaveLength(before + 1);
    expect(sighups().at(-1)!.revision).toMatch(/^test-allow-all-/);
    expect(dockgate.child.exitCode).toBeNull();
  });
});
