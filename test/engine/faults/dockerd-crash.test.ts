import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { describeResult, runDocker, spawnDocker } from '../../support/docker-cli.js';
import { startDockgate, type Dockgate } from '../../support/dockgate.js';
import { TEST_IMAGE, buildTestImage, startPrivateDockerd, type PrivateDockerd } from '../../support/dockerd.js';
import { LABEL_ARGS, sleep, uniqueName } from '../../support/fixtures.js';
import { openFds } from '../../support/process-resources.js';
import { jsonPost, sendRaw } from '../../support/raw-http.js';
import { acceptedConnections, connectionsTo } from '../../support/unix-connections.js';

// The daemon dies (SIGKILL) in the middle of a create, of a stream (logs -f) and of a hijacked
// session (run -i): each client gets an error, not a clean end and not a hang; dockgate stays up,
// serves again once the daemon is back, and holds no more connections or file descriptors than
// before. SIGKILL, because a SIGTERM'd dockerd first stops the container, which ends streams
// cleanly. This file runs its own dockerd so it can kill and restart it.

describe('dockerd killed mid-request', () => {
  let daemon: PrivateDockerd;
  let dockgate: Dockgate;
  let dir: string;
  /** dockgate's fds that are not connections to the daemon, and its connections to the daemon. */
  let baseline: { fds: number; upstream: number };

  const measure = async () => {
    const upstream = await connectionsTo(dockgate.pid, daemon.socketPath);
    return { fds: (await openFds(dockgate.pid)) - upstream, upstream };
  };

  beforeAll(async () => {
    daemon = await startPrivateDockerd();
    await buildTestImage(daemon.host);
    // At most one decision worker: the decisions here fit the step budget and are made on the event
    // loop, so none runs; were one started, one thread's descriptors would be all it adds.
    dir = await fs.mkdtemp('/tmp/dgt-crash-');
    await fs.writeFile(path.join(dir, 'dockgate.yaml'), 'policyWorkers: 1\n');
    dockgate = await startDockgate({ upstream: daemon.host, extraArgs: ['--config', path.join(dir, 'dockgate.yaml')] });
    // Warm up every path the faults take (create, stream, hijack), then measure.
    const warm = await runDocker(dockgate.dockerHost, ['run', '--rm', '-i', ...LABEL_ARGS, TEST_IMAGE, 'cat'], { input: 'warm\n' });
    expect(warm.code, describeResult(warm)).toBe(0);
    await sleep(300);
    baseline = await measure();
  });

  afterAll(async () => {
    await dockgate?.stop();
    await daemon?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  async function restart(): Promise<void> {
    await daemon.start();
    const ps = await runDocker(dockgate.dockerHost, ['ps', '-a']);
    expect(ps.code, describeResult(ps)).toBe(0);
  }

  test('mid-create: the body arrives after the daemon died; the client gets a 502 naming the daemon', async () => {
    const name = uniqueName('dgt-midcreate');
    const request = jsonPost(`/v1.41/containers/create?name=${name}`, JSON.stringify({ Image: TEST_IMAGE, Cmd: ['true'], Labels: { 'dockgate.test': '1' } }));
    const split = request.indexOf('\r\n\r\n') + 4 + 5;
    // The head and a few body bytes now; the rest once the daemon is gone (dockgate judges whole bodies).
    const exchange = sendRaw(dockgate.socketPath, [request.subarray(0, split), request.subarray(split)], { pauseMs: 1_500, timeoutMs: 30_000 });
    await sleep(200);
    await daemon.stop('SIGKILL');
    const x = await exchange;
    expect(x.responses[0]?.status, x.transcript).toBe(502);
    expect(x.responses[0]?.json<{ message: string }>().message).toMatch(/^dockgate: cannot reach the Docker daemon/);
    expect(dockgate.child.exitCode).toBeNull();
    await restart();
    const created = await runDocker(daemon.host, ['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Names}}']);
    expect(created.stdout.trim(), 'the create was not forwarded, yet the container exists').toBe('');
  });

  test('mid-stream: the following client (logs -f) gets an error when the daemon is killed', async () => {
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
    await restart();
    const ps = await runDocker(dockgate.dockerHost, ['ps', '-a', '--format', '{{.Names}}']);
    expect(ps.stdout).toMatch(/^dgt-ticker-[0-9a-f]+$/m);
    const run = await runDocker(dockgate.dockerHost, ['run', '--rm', ...LABEL_ARGS, TEST_IMAGE, 'sh', '-c', 'echo back-$((6*7))']);
    expect(run.code, describeResult(run)).toBe(0);
    expect(run.stdout).toBe('back-42\n');
  });

  test('mid-hijack: run -i loses its daemon; the client fails and dockgate releases both sides', async () => {
    const session = spawnDocker(dockgate.dockerHost, ['run', '-i', '--name', uniqueName('dgt-hijack'), ...LABEL_ARGS, TEST_IMAGE, 'sh', '-c', 'echo ready; cat'], { stdin: 'pipe' });
    await session.waitForOutput(/ready\n/, 20_000);
    expect(await acceptedConnections(dockgate.pid, dockgate.socketPath)).toBeGreaterThan(0);
    await daemon.stop('SIGKILL');
    const r = await session.result(30_000);
    expect(r.code, `run -i must fail when the daemon dies mid-session\n${describeResult(r)}`).not.toBe(0);
    expect(dockgate.child.exitCode).toBeNull();
    await restart();
  });

  test('after every fault: no client connection left, no more daemon connections or fds than before', async () => {
    const pid = dockgate.pid;
    const deadline = Date.now() + 10_000;
    let now = await measure();
    let clients = await acceptedConnections(pid, dockgate.socketPath);
    while ((clients > 0 || now.fds > baseline.fds || now.upstream > baseline.upstream) && Date.now() < deadline) {
      await sleep(200);
      now = await measure();
      clients = await acceptedConnections(pid, dockgate.socketPath);
    }
    expect(clients).toBe(0);
    expect(now.upstream).toBeLessThanOrEqual(Math.max(baseline.upstream, 1));
    expect(now.fds).toBeLessThanOrEqual(baseline.fds);
  });
});
