import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { describeResult, runDocker, spawnDocker } from '../../support/docker-cli.js';
import { startDockgate, type Dockgate } from '../../support/dockgate.js';
import { TEST_IMAGE, buildTestImage, startPrivateDockerd, type PrivateDockerd } from '../../support/dockerd.js';
import { LABEL_ARGS, uniqueName } from '../../support/fixtures.js';

// The daemon dies (SIGKILL) while a client follows logs through dockgate: the client must see an
// error (not a clean end of the stream), and dockgate must serve normally once the daemon is back.
// SIGKILL, because a SIGTERM'd dockerd first stops the container, which ends `logs -f` cleanly
// (straight at the daemon too). This file runs its own dockerd so it can kill and restart it.

describe('dockerd crashes during logs -f', () => {
  let daemon: PrivateDockerd;
  let dockgate: Dockgate;

  beforeAll(async () => {
    daemon = await startPrivateDockerd();
    await buildTestImage(daemon.host);
    dockgate = await startDockgate({ upstream: daemon.host });
  });

  afterAll(async () => {
    await dockgate?.stop();
    await daemon?.destroy();
  });

  test('the following client gets an error when the daemon is killed', async () => {
    const name = uniqueName('dgt-ticker');
    const run = await runDocker(dockgate.dockerHost, [
      'run', '-d', '--name', name, ...LABEL_ARGS, TEST_IMAGE,
      'sh', '-c', 'trap "exit 0" TERM; i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done',
    ]);
    expect(run.code, describeResult(run)).toBe(0);

    const logs = spawnDocker(dockgate.dockerHost, ['logs', '-f', name]);
    await logs.waitForOutput(/tick-3\n/, 20_000);
    await daemon.stop('SIGKILL');
    const r = await logs.result(20_000);
    expect(r.code, `logs -f must fail when the daemon dies mid-stream\n${describeResult(r)}`).not.toBe(0);
    expect(r.stderr.trim()).not.toBe('');
    expect(dockgate.child.exitCode).toBeNull();
  });

  test('while the daemon is down, requests fail with an error and dockgate stays up', async () => {
    const r = await runDocker(dockgate.dockerHost, ['ps'], { timeoutMs: 30_000 });
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.stderr).toMatch(/Error response from daemon|Cannot connect/);
    expect(dockgate.child.exitCode).toBeNull();
  });

  test('once the daemon is back, dockgate serves the next requests', async () => {
    await daemon.start();
    const ps = await runDocker(dockgate.dockerHost, ['ps', '-a', '--format', '{{.Names}}']);
    expect(ps.code, describeResult(ps)).toBe(0);
    expect(ps.stdout).toMatch(/^dgt-ticker-[0-9a-f]+$/m);
    const run = await runDocker(dockgate.dockerHost, ['run', '--rm', ...LABEL_ARGS, TEST_IMAGE, 'sh', '-c', 'echo back-$((6*7))']);
    expect(run.code, describeResult(run)).toBe(0);
    expect(run.stdout).toBe('back-42\n');
  });
});
