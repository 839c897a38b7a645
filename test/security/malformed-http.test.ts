import fc from 'fast-check';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startDockgate, type Dockgate } from '../support/dockgate.js';
import { fuzzBudget } from '../support/fuzz-run.js';
import { ensurePolicyBundle } from '../support/policy-bundle.js';
import { openFds, rssBytes, settle } from '../support/process-resources.js';
import { buildRequest, chunked, jsonPost, sendRaw, type RawExchange, type RequestSpec } from '../support/raw-http.js';
import { startRecordingUpstream, type RecordedRequest, type RecordingUpstream } from '../support/recording-upstream.js';
import { DENY_PRIVILEGED, DENY_PRIVILEGED_BUNDLE } from '../support/security.js';
import { acceptedConnections } from '../support/unix-connections.js';

// Hostile clients (issue 9): thousands of malformed, mutated, smuggled requests against dockgate
// in front of a recording fake daemon. Every request is refused or handled; nothing the policy
// would deny reaches the daemon (the deny-privileged policy, and privileged bodies hidden in every
// framing trick); dockgate does not crash; its file descriptors and connections return to the
// baseline and its memory stays bounded.

const PRIVILEGED = '{"Image":"busybox","HostConfig":{"Privileged":true}}';
const BENIGN = '{"Image":"busybox","Cmd":["true"]}';
const EXEC_PRIVILEGED = '{"Cmd":["sh"],"Privileged":true}';
const smuggled = jsonPost('/v1.41/containers/create?name=smuggled', PRIVILEGED).toString('latin1');

const BASES: RequestSpec[] = [
  { method: 'GET', target: '/_ping' },
  { method: 'GET', target: '/v1.41/containers/json?all=1' },
  { method: 'POST', target: '/v1.41/containers/create?name=benign', headers: [['Content-Type', 'application/json']], body: BENIGN },
  { method: 'POST', target: '/v1.41/containers/create?name=priv', headers: [['Content-Type', 'application/json']], body: PRIVILEGED },
  { method: 'POST', target: '/v1.41/containers/create', headers: [['Content-Type', 'application/json']], body: PRIVILEGED, framing: 'chunked', chunkSize: 7 },
  { method: 'POST', target: '/v1.41/containers/c1/exec', headers: [['Content-Type', 'application/json']], body: EXEC_PRIVILEGED },
  {
    method: 'POST',
    target: '/v1.41/exec/e1/start',
    headers: [['Content-Type', 'application/json'], ['Connection', 'Upgrade'], ['Upgrade', 'tcp']],
    body: '{"Detach":false,"Tty":false}',
  },
  { method: 'POST', target: '/v1.41/containers/c1/start' },
  { method: 'DELETE', target: '/v1.41/containers/c1?force=1' },
];

// Hand-made framing attacks: each hides a privileged create behind a framing ambiguity.
const ATTACKS: string[] = [
  // CL/TE conflicts
  `POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n${(PRIVILEGED.length).toString(16)}\r\n${PRIVILEGED}\r\n0\r\n\r\n`,
  `POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n${smuggled}`,
  `GET /_ping HTTP/1.1\r\nHost: d\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
  `GET /_ping HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
  `GET /_ping HTTP/1.1\r\nHost: d\r\nContent-Length: ${smuggled.length}, 0\r\n\r\n${smuggled}`,
  `POST /v1.41/containers/c1/start HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`,
  `POST /v1.41/containers/c1/start HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${smuggled}`,
  `POST /v1.41/containers/c1/start HTTP/1.1\r\nHost: d\r\nTransfer-Encoding:\tchunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${smuggled}`,
  `POST /v1.41/containers/c1/start HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
  `POST /v1.41/containers/c1/start HTTP/1.1\r\nHost: d\r\nTransfer-\r\n Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
  `POST /v1.41/containers/c1/start HTTP/1.1\r\nHost: d\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${smuggled}`,
  // bad chunk sizes
  ...['fffffffffffffffff', '-1', '0x10', ' 10', '10 ', '1;a=b"c', '+5', '5\n'].map(
    (size) => `POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\n${PRIVILEGED}\r\n0\r\n\r\n`,
  ),
  `POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${(3).toString(16)}\r\n${BENIGN}\r\n0\r\n\r\n${smuggled}`,
  // pipelining: a benign request then a privileged one, and the reverse
  `${buildRequest(BASES[2]!).toString('latin1')}${smuggled}`,
  `${smuggled}${buildRequest(BASES[0]!).toString('latin1')}`,
  // upgrade with a smuggled request as "early stdin" and as body
  `POST /v1.41/exec/e1/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}${smuggled}`,
  `POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${PRIVILEGED.length}\r\n\r\n${PRIVILEGED}`,
  // line endings, versions, methods, targets
  smuggled.replace(/\r\n/g, '\n'),
  smuggled.replace(/\r\n/g, '\r'),
  smuggled.replace('HTTP/1.1', 'HTTP/1.0'),
  smuggled.replace('HTTP/1.1', 'HTTP/2.0'),
  smuggled.replace(' HTTP/1.1', ''),
  smuggled.replace('POST', 'post'),
  smuggled.replace('POST /v1.41', 'POST http://docker/v1.41'),
  smuggled.replace('/containers/create', '/containers/%63reate'),
  'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  `GET /_ping HTTP/1.1\r\nHost: d\r\nX: a\u0000b\r\n\r\n`,
  `GET /_p\u0000ing HTTP/1.1\r\nHost: d\r\n\r\n`,
];

/** Header bombs: many headers, one huge header, a huge request line. */
function headerBombs(): Buffer[] {
  const many = (n: number) => Array.from({ length: n }, (_, i) => `X-H${i}: ${'v'.repeat(20)}\r\n`).join('');
  return [
    Buffer.from(`GET /_ping HTTP/1.1\r\nHost: d\r\n${many(2000)}\r\n`),
    Buffer.from(`GET /_ping HTTP/1.1\r\nHost: d\r\n${many(60000)}\r\n`),
    Buffer.from(`GET /_ping HTTP/1.1\r\nHost: d\r\nX-Big: ${'a'.repeat(2 * 1024 * 1024)}\r\n\r\n`),
    Buffer.from(`GET /_ping?${'a'.repeat(1024 * 1024)} HTTP/1.1\r\nHost: d\r\n\r\n`),
    Buffer.from(`POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: ${PRIVILEGED.length}\r\n${many(3000)}\r\n${PRIVILEGED}`),
  ];
}

type Mutation =
  | { op: 'set'; at: number; byte: number }
  | { op: 'insert'; at: number; bytes: number[] }
  | { op: 'delete'; at: number; len: number }
  | { op: 'repeat'; at: number; len: number }
  | { op: 'append'; what: 'smuggled' | 'garbage' };

const SPECIAL_BYTES = [0x00, 0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x2c, 0x22, 0x7f, 0x80, 0xc3, 0xff, 0xfe, 0xed, 0xa0];
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.oneof(fc.constantFrom(...SPECIAL_BYTES), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.constantFrom(...SPECIAL_BYTES), { minLength: 1, maxLength: 4 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('repeat' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('append' as const), what: fc.constantFrom('smuggled' as const, 'garbage' as const) }),
);

function mutate(input: Buffer, m: Mutation): Buffer {
  if (m.op === 'append') return Buffer.concat([input, Buffer.from(m.what === 'smuggled' ? smuggled : '\u0000\u00ff garbage\r\n\r\n', 'latin1')]);
  const at = input.length === 0 ? 0 : m.at % input.length;
  switch (m.op) {
    case 'set': {
      const out = Buffer.from(input);
      out[at] = m.byte;
      return out;
    }
    case 'insert':
      return Buffer.concat([input.subarray(0, at), Buffer.from(m.bytes), input.subarray(at)]);
    case 'delete':
      return Buffer.concat([input.subarray(0, at), input.subarray(at + m.len)]);
    case 'repeat':
      return Buffer.concat([input.subarray(0, at + m.len), input.subarray(at)]);
  }
}

const seeds = [...BASES.map((b) => buildRequest(b)), ...ATTACKS.map((a) => Buffer.from(a, 'latin1')), buildRequest({ ...BASES[3]!, body: chunked(Buffer.from(PRIVILEGED), 1), framing: 'none', headers: [['Transfer-Encoding', 'chunked']] })];
const mutated = fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([base, ms]) => ms.reduce(mutate, base));

// The routes dockerd runs as container create and exec create ("/v" + [0-9.]+ version prefix as
// in its router); the path is percent-decoded first, to err on the side of flagging.
const JUDGED_ROUTE = /^(\/v[0-9.]+)?\/containers\/(create|[^/]+\/exec)$/;

/** This recorded request is one the deny-privileged policy denies: a privileged create or exec. */
function deniedPayload(r: RecordedRequest): boolean {
  let path = r.url.split('?')[0]!;
  try {
    path = decodeURIComponent(path);
  } catch {
    // undecodable: judged as sent
  }
  if (!JUDGED_ROUTE.test(path)) return false;
  return /privileged\W*:\W*true/i.test(r.body.toString('utf8').replace(/\\u0050/gi, 'P'));
}

/** A response is dockgate's own refusal (Docker's error shape) or the daemon's answer relayed. */
function handled(x: RawExchange): string | null {
  for (const res of x.responses) {
    if (res.header('x-recorded') === '1') continue;
    // Node's HTTP server answers a request without Host (HTTP/1.1 requires one; so does dockerd)
    // with a bare 400 before any handler runs.
    if (res.status === 400 && res.body.length === 0 && res.header('connection') === 'close') continue;
    let message: unknown;
    try {
      message = res.json<{ message?: unknown }>().message;
    } catch {
      message = undefined;
    }
    if (res.status >= 400 && typeof message === 'string' && message.startsWith('dockgate: ')) continue;
    return `unexpected response ${res.status} ${res.text().slice(0, 200)}`;
  }
  return null;
}

// Requests dockgate refuses on each of its refusal paths: the parser (clientError), a refused
// upgrade, an upgrade the daemon answers without switching, a chunked upgrade, an oversized upgrade body, an oversized judged body. (A request
// answered in full keeps its keep-alive connection: that one is not a leak.)
const REFUSED_AND_HELD: string[] = [
  'GET /_ping HTTP/1.1\r\nHost: d\r\nBad Header\r\n\r\n',
  `POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${PRIVILEGED.length}\r\n\r\n${PRIVILEGED}`,
  'POST /v1.41/exec/missing/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 2\r\n\r\n{}',
  'POST /v1.41/exec/e1/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'POST /v1.41/exec/e1/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 99999999999\r\n\r\n',
  `POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n{`,
];

/** Sends each request on its own connection and keeps every connection open (never ends it). */
async function holdOpen(socketPath: string, requests: string[], copies = 10): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  await Promise.all(
    requests.flatMap((r) =>
      Array.from({ length: copies }, () =>
        new Promise<void>((resolve) => {
          const s = net.connect({ path: socketPath, allowHalfOpen: true });
          sockets.push(s);
          s.on('error', () => resolve());
          s.on('data', () => undefined);
          // Done once dockgate answered and ended its side (or after a second).
          s.once('end', () => resolve());
          setTimeout(resolve, 1_000);
          s.write(r);
        }),
      ),
    ),
  );
  return sockets;
}

async function runPool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

describe('malformed HTTP corpus', () => {
  let upstream: RecordingUpstream;
  let dockgate: Dockgate;
  let configDir: string | undefined;
  const budget = fuzzBudget(2500);

  beforeAll(async () => {
    await ensurePolicyBundle(DENY_PRIVILEGED);
    upstream = await startRecordingUpstream();
    // At most one decision worker: the decisions here fit the step budget and are made on the event
    // loop, so none runs and the fd baseline holds; were one started, it would add one thread's.
    configDir = await fs.mkdtemp('/tmp/dgt-malformed-');
    await fs.writeFile(path.join(configDir, 'dockgate.yaml'), 'policyWorkers: 1\n');
    dockgate = await startDockgate({ upstream: upstream.address, policy: DENY_PRIVILEGED_BUNDLE, extraArgs: ['--config', path.join(configDir, 'dockgate.yaml')] });
  });
  afterAll(async () => {
    await dockgate?.stop();
    await upstream?.close();
    if (configDir) await fs.rm(configDir, { recursive: true, force: true });
  });

  test('every request is refused or handled; nothing denied reaches the daemon; no crash, no leak', { timeout: budget.timeoutMs }, async () => {
    // Warm up (lazy module loads, the first policy evaluation), then take the baseline.
    for (const b of BASES) await sendRaw(dockgate.socketPath, buildRequest(b), { timeoutMs: 5_000 });
    upstream.dropConnections();
    const pid = dockgate.pid;
    const fdBaseline = await settle(() => openFds(pid), 0, 1_000);
    const rssBaseline = await rssBytes(pid);

    const seconds = Number(process.env.FUZZ_SECONDS ?? 0);
    const count = seconds > 0 ? Number.MAX_SAFE_INTEGER : Number(budget.params.numRuns);
    const stopAt = seconds > 0 ? Date.now() + seconds * 1000 : Infinity;
    const random = fc.sample(mutated, { seed: budget.seed, numRuns: Math.min(count, 200_000) });
    const corpus = [...seeds, ...headerBombs(), ...random];
    const problems: string[] = [];
    let sent = 0;
    await runPool(corpus, 12, async (bytes) => {
      if (Date.now() > stopAt || problems.length > 5) return;
      // Wait for as many answers as the bytes hold request lines (pipelined and smuggled ones too).
      const requestLines = bytes.toString('latin1').split(/ HTTP\/\d/).length - 1;
      const x = await sendRaw(dockgate.socketPath, bytes, { responses: Math.max(1, requestLines), timeoutMs: 400, awaitCloseMs: 1_000 });
      sent++;
      // A client that stays connected must not keep dockgate's end open after a final answer.
      const last = x.responses[x.responses.length - 1];
      const lingering = last && /\bclose\b/i.test(last.header('connection') ?? '') && !x.closed;
      const bad = lingering ? `dockgate answered "Connection: close" but kept the connection open (${last.status})` : handled(x);
      if (bad) problems.push(`${bad}\n--- sent: ${JSON.stringify(bytes.subarray(0, 600).toString('latin1'))}`);
    });

    expect(dockgate.child.exitCode, dockgate.logs().slice(-3000)).toBeNull();
    expect(problems, problems.join('\n\n')).toEqual([]);
    const leaked = upstream.requests.filter(deniedPayload);
    expect(leaked.map((r) => `${r.method} ${r.url} ${r.body.toString('utf8')}`), 'a body the policy denies reached the daemon').toEqual([]);
    // Nothing unjudged: every request that changes something at the daemon has an allowed decision.
    const allowedChanges = dockgate.logs().split('\n').filter((l) => l.includes('"msg":"admission decision: allowed"') && !l.includes('"method":"GET"')).length;
    expect(upstream.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD').length).toBeLessThanOrEqual(allowedChanges);
    expect(sent).toBeGreaterThan(1000);

    // Still serving.
    const ping = await sendRaw(dockgate.socketPath, buildRequest(BASES[0]!), { timeoutMs: 5_000 });
    expect(ping.responses[0]?.status).toBe(200);

    // Back to the baseline: no client connection left open, no fd kept, memory bounded.
    expect(await settle(() => acceptedConnections(pid, dockgate.socketPath), 0)).toBe(0);
    upstream.dropConnections();
    expect(await settle(() => openFds(pid), fdBaseline)).toBeLessThanOrEqual(fdBaseline);
    expect(await rssBytes(pid)).toBeLessThan(rssBaseline + 200 * 1024 * 1024);
    // Clients that never close their end after a refusal: dockgate must release its own.
    const held = await holdOpen(dockgate.socketPath, REFUSED_AND_HELD);
    try {
      upstream.dropConnections();
      expect(await settle(() => openFds(pid), fdBaseline), 'dockgate keeps the fds of refused clients that stay connected').toBeLessThanOrEqual(fdBaseline);
    } finally {
      for (const s of held) s.destroy();
    }
    console.log(`[malformed-http] seed ${budget.seed}: ${sent} requests, ${upstream.requests.length} reached the fake daemon, fds ${fdBaseline}, rss ${Math.round(rssBaseline / 1e6)} MB -> ${Math.round((await rssBytes(pid)) / 1e6)} MB`);
  });
});
