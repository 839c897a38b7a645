import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { engineContext } from '../../support/context.js';
import { describeResult, runDocker } from '../../support/docker-cli.js';
import { startDockgate, type Dockgate } from '../../support/dockgate.js';
import { engineRequest } from '../../support/engine-api.js';

// dockgate pointed at a socket path where nothing listens: every request gets a 502 in Docker's
// error shape, dockgate keeps running, and once a daemon appears at that path it serves again.

describe('upstream unreachable', () => {
  let dir: string;
  let deadSocket: string;
  let dockgate: Dockgate;
  let relay: net.Server | undefined;

  beforeAll(async () => {
    dir = await fs.mkdtemp('/tmp/dgt-dead-');
    deadSocket = path.join(dir, 'docker.sock');
    dockgate = await startDockgate({ upstream: `unix://${deadSocket}` });
  });

  afterAll(async () => {
    relay?.close();
    await dockgate?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test('GET /_ping answers 502 with a Docker-style JSON message', async () => {
    const res = await engineRequest(dockgate.socketPath, 'GET', '/_ping');
    expect(res.status).toBe(502);
    expect(res.headers['content-type']).toBe('application/json');
    const body = res.json<{ message?: unknown }>();
    expect(typeof body.message).toBe('string');
    expect((body.message as string).length).toBeGreaterThan(0);
  });

  test('HEAD /_ping and a versioned API call answer 502 as well', async () => {
    const head = await engineRequest(dockgate.socketPath, 'HEAD', '/_ping');
    expect(head.status).toBe(502);
    const list = await engineRequest(dockgate.socketPath, 'GET', '/v1.41/containers/json');
    expect(list.status).toBe(502);
    expect(list.headers['content-type']).toBe('application/json');
    expect(typeof list.json<{ message?: unknown }>().message).toBe('string');
  });

  test('docker version fails with the message from dockgate, and dockgate keeps running', async () => {
    const res = await engineRequest(dockgate.socketPath, 'GET', '/version');
    const message = res.json<{ message: string }>().message;
    const r = await runDocker(dockgate.dockerHost, ['version'], { timeoutMs: 30_000 });
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(dockgate.child.exitCode).toBeNull();
  });

  test('serves again once the upstream socket comes alive', async () => {
    // Stand-in for a daemon starting at the configured path: a relay to the test daemon.
    const { dockerSocket } = engineContext();
    relay = net.createServer({ allowHalfOpen: true }, (client) => {
      const upstream = net.connect({ path: dockerSocket, allowHalfOpen: true });
      client.pipe(upstream).on('error', () => client.destroy());
      upstream.pipe(client).on('error', () => upstream.destroy());
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => relay!.listen(deadSocket, resolve));

    const ping = await engineRequest(dockgate.socketPath, 'GET', '/_ping');
    expect(ping.status).toBe(200);
    expect(ping.text()).toBe('OK');
    const r = await runDocker(dockgate.dockerHost, ['version', '--format', '{{.Server.APIVersion}}']);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(/^1\.\d+\n$/);
  });
});
