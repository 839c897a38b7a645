import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { engineContext } from '../support/context.js';
import { describeResult, runDocker } from '../support/docker-cli.js';
import { startDockgateWithConfig, type ConfiguredDockgate } from '../support/dockgate.js';
import { describeExchange, sendRaw } from '../support/raw-http.js';
import { scrape, sumOf } from '../support/prometheus.js';
import { createPki, type ClientCert } from '../support/tls-pki.js';
import { LABEL_ARGS } from '../support/fixtures.js';

// Hostile clients against the listeners (issue 9): a tenant that takes every connection its
// listener allows, and a slowloris client that never finishes its headers. Each listener's limits
// are its own: tenant B (another listener, here over mutual TLS) keeps working while A floods.

const FLOOD_LIMIT = 3;
let dockgate: ConfiguredDockgate;
let pkiRoot: string;
let tenantB: ClientCert;

beforeAll(async () => {
  const ctx = engineContext();
  pkiRoot = await fs.mkdtemp('/tmp/dgg-pki-');
  const pki = await createPki(pkiRoot, 'limits-ca');
  const server = await pki.server();
  tenantB = await pki.client('tenant-b', '/CN=tenant-b');
  dockgate = await startDockgateWithConfig({
    config: (dir) => ({
      upstream: ctx.dockerHost,
      admin: `unix://${path.join(dir, 'admin.sock')}`,
      listeners: [
        { name: 'tenant-a', unix: { path: path.join(dir, 'a.sock') }, identity: { username: 'tenant-a' }, maxConnections: FLOOD_LIMIT },
        { name: 'slow', unix: { path: path.join(dir, 'slow.sock') }, identity: { username: 'slow' }, headersTimeoutSeconds: 1 },
        {
          name: 'tenant-b',
          tcp: { address: '127.0.0.1:0', cert: server.cert, key: server.key, clientCA: pki.ca.cert },
          identityFrom: [{ match: { commonName: 'tenant-b' }, identity: { username: 'tenant-b' } }],
          maxConnections: 20,
          headersTimeoutSeconds: 2,
        },
      ],
    }),
  });
});

afterEach((t) => {
  if (t.task.result?.state === 'fail') console.log(`--- dockgate log after "${t.task.name}":\n${dockgate?.logs().slice(-6000)}`);
});

afterAll(async () => {
  await dockgate?.stop();
  if (pkiRoot) await fs.rm(pkiRoot, { recursive: true, force: true });
});

const socketOf = (name: string) => dockgate.listeners[name]!.socketPath!;
const PING = 'GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n';

/** A connection holding an event stream open (the daemon answered 200 and keeps it). */
function holdEventStream(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ path: socketPath }, () => s.write('GET /v1.41/events HTTP/1.1\r\nHost: docker\r\n\r\n'));
    let seen = '';
    s.on('data', (c: Buffer) => {
      seen += c.toString('latin1');
      if (/^HTTP\/1\.1 200 /.test(seen)) resolve(s);
      else if (seen.includes('\r\n')) reject(new Error(`events answered: ${seen}`));
    });
    s.once('error', reject);
    s.once('close', () => reject(new Error(`closed before the event stream started: ${seen}`)));
  });
}

function tenantBDocker(args: string[]) {
  return runDocker(dockgate.listeners['tenant-b']!.dockerHost, args, { env: { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: tenantB.dir }, timeoutMs: 60_000 });
}

describe('per-listener connection limits', () => {
  test('a tenant holding all its connections is refused more; another tenant keeps working', async () => {
    const held = await Promise.all(Array.from({ length: FLOOD_LIMIT }, () => holdEventStream(socketOf('tenant-a'))));
    try {
      // Over the limit: closed on accept, nothing answered, nothing forwarded.
      const extra = await sendRaw(socketOf('tenant-a'), PING, { timeoutMs: 20_000 });
      expect(extra.responses, describeExchange(PING, extra)).toHaveLength(0);
      expect(extra.closed).toBe(true);
      await dockgate.waitForLog(/"listener":"tenant-a".*"reason":"maxConnections".*"msg":"connection refused: the listener is at maxConnections"/);
      // Counted for the flooding listener only.
      const metrics = await scrape(path.join(dockgate.dir, 'admin.sock'));
      expect(sumOf(metrics, 'dockgate_connections_refused_total', { listener: 'tenant-a', reason: 'maxConnections' })).toBeGreaterThanOrEqual(1);
      expect(sumOf(metrics, 'dockgate_connections_refused_total', { listener: 'tenant-b' })).toBe(0);

      // Tenant B, on its own listener, runs a container (create, attach, start, wait) and lists.
      const run = await tenantBDocker(['run', '--rm', ...LABEL_ARGS, engineContext().testImage, 'echo', 'fair-share']);
      expect(run.code, describeResult(run)).toBe(0);
      expect(run.stdout).toBe('fair-share\n');
      const ps = await tenantBDocker(['ps']);
      expect(ps.code, describeResult(ps)).toBe(0);
    } finally {
      for (const s of held) s.destroy();
    }
    // Slots come back once the flood stops (closing is asynchronous: retry a few times).
    let answer;
    for (let i = 0; i < 50; i++) {
      answer = await sendRaw(socketOf('tenant-a'), PING, { timeoutMs: 10_000 });
      if (answer.responses[0]?.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(answer!.responses[0]?.status, describeExchange(PING, answer!)).toBe(200);
  });
});

/** A client sending requests back to back on one connection until stop(); counts the answers. */
function requestFlood(socketPath: string): { answers(): number; stop(): void } {
  let answers = 0;
  let stopped = false;
  const s = net.connect({ path: socketPath }, () => s.write(PING));
  let seen = '';
  s.on('data', (c: Buffer) => {
    seen += c.toString('latin1');
    // Each _ping answer ends in its 2-byte body "OK".
    let i;
    while ((i = seen.indexOf('\r\n\r\nOK')) >= 0) {
      seen = seen.slice(i + 6);
      answers++;
      if (!stopped) s.write(PING);
    }
  });
  s.on('error', () => undefined);
  return {
    answers: () => answers,
    stop: () => {
      stopped = true;
      s.destroy();
    },
  };
}

describe('request floods', () => {
  test('a tenant hammering requests on all its connections does not starve another tenant', async () => {
    const floods = Array.from({ length: FLOOD_LIMIT }, () => requestFlood(socketOf('tenant-a')));
    try {
      const run = await tenantBDocker(['run', '--rm', ...LABEL_ARGS, engineContext().testImage, 'echo', 'still-served']);
      expect(run.code, describeResult(run)).toBe(0);
      expect(run.stdout).toBe('still-served\n');
      // The flood was real: every one of tenant A's connections was being answered.
      expect(floods.every((f) => f.answers() > 0)).toBe(true);
    } finally {
      for (const f of floods) f.stop();
    }
  });
});

describe('tenant B over mutual TLS', () => {
  test('a hijacked run -i carries stdin, its EOF (TLS half-close) and the output back', async () => {
    const image = engineContext().testImage;
    const run = await runDocker(dockgate.listeners['tenant-b']!.dockerHost, ['run', '--rm', '-i', ...LABEL_ARGS, image, 'sh', '-c', 'wc -c; echo done'], {
      env: { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: tenantB.dir },
      input: 'x'.repeat(100_000),
    });
    expect(run.code, describeResult(run)).toBe(0);
    expect(run.stdout.split(/\s+/).filter(Boolean)).toEqual(['100000', 'done']);
  });
});

describe('slowloris', () => {
  test('a client trickling its headers is cut at the deadline while normal clients are served', async () => {
    // One header line every 200 ms, for far longer than the 1 s headers deadline.
    const pieces = ['GET /_ping HTTP/1.1\r\n', ...Array.from({ length: 150 }, (_, i) => `X-Slow-${i}: x\r\n`), 'Host: docker\r\n\r\n'];
    // responses: 2 keeps reading after the 408 until the connection is closed.
    const slow = sendRaw(socketOf('slow'), pieces, { pauseMs: 200, timeoutMs: 60_000, responses: 2 });
    const ps = await runDocker(`unix://${socketOf('slow')}`, ['ps']);
    expect(ps.code, describeResult(ps)).toBe(0);
    const x = await slow;
    expect(x.timedOut, describeExchange(pieces.join(''), x)).toBe(false);
    expect(x.responses[0]?.status, describeExchange(pieces.join(''), x)).toBe(408);
    expect(x.closed).toBe(true);
  });

  test('a TLS client that never finishes its handshake is cut', async () => {
    const { host, port } = dockgate.listeners['tenant-b']!;
    const closed = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: host!, port: port! }, () => s.write(Buffer.from([0x16, 0x03, 0x01])));
      s.on('data', () => undefined);
      s.once('close', () => resolve(true));
      s.once('error', () => undefined);
      setTimeout(() => {
        s.destroy();
        resolve(false);
      }, 60_000).unref();
    });
    expect(closed).toBe(true);
    expect(sumOf(await scrape(path.join(dockgate.dir, 'admin.sock')), 'dockgate_connections_refused_total', { listener: 'tenant-b', reason: 'tls_handshake' })).toBe(1);
    const ps = await tenantBDocker(['ps']);
    expect(ps.code, describeResult(ps)).toBe(0);
  });
});
