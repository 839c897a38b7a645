import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { engineRequest } from '../support/engine-api.js';
import { expectNothingCreated, expectNoHostAccessSince, inspectContainer } from '../support/daemon-state.js';
import { buildRequest, chunked, describeExchange, jsonPost, type RawExchange } from '../support/raw-http.js';
import { expectDockgateRefusal, useGuardedDockgate } from '../support/security.js';

// THREATS.md "Framing and headers": the same body delivered in ways a filter may not look at
// (chunked, charset parameters, zero-length declarations, oversized, pipelined, upgrades,
// absolute-form targets, form bodies). Every case is checked at the daemon afterwards.

const env = useGuardedDockgate('framing');

const privileged = (image: string) => `{"Image":"${image}","Cmd":["true"],"HostConfig":{"Privileged":true}}`;
const createTarget = (name: string) => `/v1.41/containers/create?name=${name}`;

/** No answer of the exchange is a success (2xx): nothing was created on the caller's behalf. */
function expectNoSuccess(sent: string | Buffer | (string | Buffer)[], x: RawExchange): void {
  const statuses = x.responses.map((r) => r.status);
  expect(statuses.filter((s) => s >= 200 && s < 300), describeExchange(sent, x)).toEqual([]);
}

describe('framing and headers', () => {
  test('chunked create body with Privileged: denied (403)', async () => {
    const f = env();
    const before = await f.snapshot();
    const req = buildRequest({
      method: 'POST',
      target: createTarget(f.name('chunked')),
      headers: [['Content-Type', 'application/json']],
      body: privileged(f.testImage),
      framing: 'chunked',
      chunkSize: 7,
    });
    const x = await f.send(req);
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectDockgateRefusal(req, x, [403]);
  });

  test('chunked body with chunk extensions, split across writes: denied (403)', async () => {
    const f = env();
    const before = await f.snapshot();
    const head = `POST ${createTarget(f.name('chunkext'))} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const body = chunked(Buffer.from(privileged(f.testImage)), 5, ';ext=1');
    const pieces = [head, body.subarray(0, 40), body.subarray(40)];
    const x = await f.send(pieces, { pauseMs: 50 });
    await expectNothingCreated(f.dockerSocket, before, describeExchange(pieces, x));
    expectDockgateRefusal(pieces, x, [403]);
  });

  test.each([
    'application/json; charset=utf-8',
    'application/json;charset=UTF-8',
    'Application/JSON',
    'application/json ; foo="bar"',
  ])('Content-Type %j: still judged, denied (403)', async (type) => {
    const f = env();
    const before = await f.snapshot();
    const req = jsonPost(createTarget(f.name('ctype')), privileged(f.testImage), { headers: [['Content-Type', type]] });
    const x = await f.send(req);
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectDockgateRefusal(req, x, [403]);
  });

  test.each([
    ['text/plain', [['Content-Type', 'text/plain']]],
    ['no Content-Type', []],
    ['an empty Content-Type', [['Content-Type', '']]],
    ['application/jsonx', [['Content-Type', 'application/jsonx']]],
  ] as [string, [string, string][]][])('%s with a body: refused, nothing created', async (_, headers) => {
    const f = env();
    const before = await f.snapshot();
    const req = buildRequest({ method: 'POST', target: createTarget(f.name('notjson')), headers, body: privileged(f.testImage) });
    const x = await f.send(req);
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectDockgateRefusal(req, x, [400, 415]);
  });

  test('Content-Encoding: gzip: refused, nothing created', async () => {
    const f = env();
    const before = await f.snapshot();
    const req = buildRequest({
      method: 'POST',
      target: createTarget(f.name('gzip')),
      headers: [['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']],
      body: gzipSync(privileged(f.testImage)),
    });
    const x = await f.send(req);
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectDockgateRefusal(req, x, [400, 415]);
  });

  // CVE-2024-41110 class: the filter sees an empty body, the daemon reads one.
  test('Content-Length: 0 followed by a privileged body: nothing created', async () => {
    const f = env();
    const before = await f.snapshot();
    const req = `POST ${createTarget(f.name('cl0'))} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n${privileged(f.testImage)}`;
    const x = await f.send(req, { responses: 2, timeoutMs: 3_000 });
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectNoSuccess(req, x);
    expect(x.responses.length, describeExchange(req, x)).toBeGreaterThan(0);
  });

  test('a POST without any framing header followed by a privileged body: nothing created', async () => {
    const f = env();
    const before = await f.snapshot();
    const req = `POST ${createTarget(f.name('noframe'))} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n\r\n${privileged(f.testImage)}`;
    const x = await f.send(req, { responses: 2, timeoutMs: 3_000 });
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectNoSuccess(req, x);
    expect(x.responses.length, describeExchange(req, x)).toBeGreaterThan(0);
  });

  test('Content-Length: 0 then a whole privileged create request: the second request is judged (403)', async () => {
    const f = env();
    const before = await f.snapshot();
    const first = `POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n`;
    const second = jsonPost(createTarget(f.name('cl0req')), privileged(f.testImage)).toString('latin1');
    const req = first + second;
    const x = await f.send(req, { responses: 2 });
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectNoSuccess(req, x);
    expectDockgateRefusal(req, x, [403], 1);
  });

  test.each([
    ['Content-Length then Transfer-Encoding', (body: string) => `Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(Buffer.from(body), 16).toString('latin1')}`],
    ['Transfer-Encoding then Content-Length', (body: string) => `Transfer-Encoding: chunked\r\nContent-Length: ${body.length}\r\n\r\n${chunked(Buffer.from(body), 16).toString('latin1')}`],
    ['Transfer-Encoding with Content-Length: 0', (body: string) => `Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n${chunked(Buffer.from(body), 16).toString('latin1')}`],
    ['two different Content-Lengths', (body: string) => `Content-Length: 0\r\nContent-Length: ${body.length}\r\n\r\n${body}`],
    ['Content-Length list "0, N"', (body: string) => `Content-Length: 0, ${body.length}\r\n\r\n${body}`],
    ['space before the colon of Transfer-Encoding', (body: string) => `Transfer-Encoding : chunked\r\n\r\n${chunked(Buffer.from(body), 16).toString('latin1')}`],
    ['Transfer-Encoding: chunked, identity', (body: string) => `Transfer-Encoding: chunked, identity\r\n\r\n${chunked(Buffer.from(body), 16).toString('latin1')}`],
  ])('%s: refused (400), nothing created', async (_, framing) => {
    const f = env();
    const before = await f.snapshot();
    const req = `POST ${createTarget(f.name('clte'))} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n${framing(privileged(f.testImage))}`;
    const x = await f.send(req, { responses: 2, timeoutMs: 10_000 });
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectNoSuccess(req, x);
    expectDockgateRefusal(req, x, [400]);
  });

  test('Transfer-Encoding: gzip, chunked: never creates a privileged container', async () => {
    const f = env();
    const before = await f.snapshot();
    const req = `POST ${createTarget(f.name('tegzip'))} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n${chunked(Buffer.from(privileged(f.testImage)), 16).toString('latin1')}`;
    const x = await f.send(req, { responses: 1, timeoutMs: 10_000 });
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectDockgateRefusal(req, x, [400, 403, 415, 501]);
  });

  // CVE-2026-34040 class: a body over the inspection limit must not be forwarded uninspected.
  test('create body over 1 MiB with Content-Length: 413, nothing created', async () => {
    const f = env();
    const before = await f.snapshot();
    const padding = 'x'.repeat(1024 * 1024 + 1024);
    const body = `{"Image":"${f.testImage}","Cmd":["true"],"HostConfig":{"Privileged":true},"Labels":{"pad":"${padding}"}}`;
    const req = jsonPost(createTarget(f.name('big')), body);
    const x = await f.send(req);
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectDockgateRefusal(req, x, [413]);
  });

  test('chunked create body over 1 MiB: 413, nothing created', async () => {
    const f = env();
    const before = await f.snapshot();
    const padding = 'x'.repeat(1024 * 1024 + 1024);
    const body = `{"Image":"${f.testImage}","Cmd":["true"],"HostConfig":{"Privileged":true},"Labels":{"pad":"${padding}"}}`;
    const req = buildRequest({
      method: 'POST',
      target: createTarget(f.name('bigchunk')),
      headers: [['Content-Type', 'application/json']],
      body,
      framing: 'chunked',
      chunkSize: 64 * 1024,
    });
    const x = await f.send(req);
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectDockgateRefusal(req, x, [413]);
  });

  test('pipelined: GET /_ping then a privileged create on one connection: the create is judged (403)', async () => {
    const f = env();
    const before = await f.snapshot();
    const req = Buffer.concat([
      buildRequest({ method: 'GET', target: '/_ping' }),
      jsonPost(createTarget(f.name('pipe')), privileged(f.testImage)),
    ]);
    const x = await f.send(req, { responses: 2 });
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expect(x.responses[0]?.status, describeExchange(req, x)).toBe(200);
    expect(x.responses[0]?.text()).toBe('OK');
    expectDockgateRefusal(req, x, [403], 1);
  });

  test('pipelined: a benign create then a privileged create: only the benign one exists', async () => {
    const f = env();
    const before = await f.snapshot();
    const benign = f.name('pipe-ok');
    const evil = f.name('pipe-evil');
    const req = Buffer.concat([
      jsonPost(createTarget(benign), `{"Image":"${f.testImage}","Cmd":["true"]}`),
      jsonPost(createTarget(evil), privileged(f.testImage)),
    ]);
    const x = await f.send(req, { responses: 2 });
    await expectNoHostAccessSince(f.dockerSocket, before, describeExchange(req, x));
    expect(await inspectContainer(f.dockerSocket, evil), describeExchange(req, x)).toBeUndefined();
    expect(x.responses[0]?.status, describeExchange(req, x)).toBe(201);
    expect(await inspectContainer(f.dockerSocket, benign)).toBeDefined();
    expectDockgateRefusal(req, x, [403], 1);
  });

  test('pipelined: three requests where the privileged create sits in the middle', async () => {
    const f = env();
    const before = await f.snapshot();
    const req = Buffer.concat([
      buildRequest({ method: 'GET', target: '/v1.41/version' }),
      jsonPost(createTarget(f.name('pipe-mid')), `{"hostconfig":{"binds":["/:/host"]},"image":"${f.testImage}"}`),
      buildRequest({ method: 'GET', target: '/_ping' }),
    ]);
    const x = await f.send(req, { responses: 3 });
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expect(x.responses.map((r) => r.status), describeExchange(req, x)).toEqual([200, 403, 200]);
    expectDockgateRefusal(req, x, [403], 1);
  });

  test.each([
    ['Content-Length', 'length'],
    ['chunked', 'chunked'],
  ] as const)('a privileged create smuggled as the %s body of GET /_ping: refused, nothing created', async (_, framing) => {
    const f = env();
    const before = await f.snapshot();
    const smuggled = jsonPost(createTarget(f.name('smuggle')), privileged(f.testImage));
    const req = buildRequest({ method: 'GET', target: '/_ping', body: smuggled, framing });
    // Wait for a second answer a short while: one would mean the body was taken for a request.
    const x = await f.send(req, { responses: 2, timeoutMs: 2_000 });
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expect(x.responses.length, describeExchange(req, x)).toBe(1);
    expectDockgateRefusal(req, x, [400]);
  });

  test('Expect: 100-continue on a privileged create: denied (403)', async () => {
    const f = env();
    const before = await f.snapshot();
    const req = jsonPost(createTarget(f.name('expect')), privileged(f.testImage), {
      headers: [['Content-Type', 'application/json'], ['Expect', '100-continue']],
    });
    const x = await f.send(req, { responses: 2, timeoutMs: 10_000 });
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    const final = x.responses.findIndex((r) => r.status >= 200);
    expect(final, describeExchange(req, x)).toBeGreaterThanOrEqual(0);
    expectDockgateRefusal(req, x, [403], final);
  });

  test.each([
    ['Upgrade: tcp', [['Connection', 'Upgrade'], ['Upgrade', 'tcp']]],
    ['Upgrade: h2c', [['Connection', 'Upgrade, HTTP2-Settings'], ['Upgrade', 'h2c'], ['HTTP2-Settings', 'AAMAAABkAAQCAAAAAAIAAAAA']]],
    ['Upgrade: websocket', [['Connection', 'upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Version', '13'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==']]],
  ] as [string, [string, string][]][])('Connection: Upgrade (%s) on a privileged create: refused, nothing created', async (_, upgrade) => {
    const f = env();
    const before = await f.snapshot();
    const req = jsonPost(createTarget(f.name('upgrade')), privileged(f.testImage), {
      headers: [['Content-Type', 'application/json'], ...upgrade],
    });
    const x = await f.send(req, { timeoutMs: 10_000 });
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectNoSuccess(req, x);
    expect(x.responses[0]?.status, describeExchange(req, x)).not.toBe(101);
    expectDockgateRefusal(req, x, [400, 403]);
  });

  test.each([
    ['http://x/v1.41/containers/create', [403]],
    ['http://docker/containers/create', [403]],
    ['https://localhost:2375/v1.41/containers/create', [403]],
    // An upper-case scheme may already be refused by the HTTP parser: also safe.
    ['HTTP://X/v1.41/containers/create', [400, 403]],
  ] as [string, number[]][])('absolute-form target %s with a privileged body: judged, denied', async (target, statuses) => {
    const f = env();
    const before = await f.snapshot();
    const req = jsonPost(`${target}?name=${f.name('absform')}`, privileged(f.testImage));
    const x = await f.send(req);
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectDockgateRefusal(req, x, statuses);
  });
});

describe('form bodies on query-driven routes', () => {
  async function imagesMatching(socket: string, reference: string): Promise<string[]> {
    const q = encodeURIComponent(JSON.stringify({ reference: [reference] }));
    const res = await engineRequest(socket, 'GET', `/images/json?filters=${q}`);
    expect(res.status).toBe(200);
    return res.json<{ RepoTags: string[] | null }[]>().flatMap((i) => i.RepoTags ?? []);
  }

  async function untag(socket: string, refs: string[]): Promise<void> {
    for (const ref of refs) await engineRequest(socket, 'DELETE', `/images/${ref}?noprune=1`);
  }

  test.each(['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'multipart/form-data; boundary=zz'])(
    'POST /images/{name}/tag with a %s body overriding repo: refused, no tag at the daemon',
    async (type) => {
      const f = env();
      const queryRepo = `${f.prefix}-query`;
      const bodyRepo = `${f.prefix}-body`;
      const body = type.startsWith('multipart')
        ? `--zz\r\nContent-Disposition: form-data; name="repo"\r\n\r\n${bodyRepo}\r\n--zz--\r\n`
        : `repo=${bodyRepo}&tag=evil`;
      const req = buildRequest({
        method: 'POST',
        target: `/v1.41/images/${f.testImage}/tag?repo=${queryRepo}&tag=ok`,
        headers: [['Content-Type', type]],
        body,
      });
      const x = await f.send(req);
      try {
        expect(await imagesMatching(f.dockerSocket, `${f.prefix}-*`), describeExchange(req, x)).toEqual([]);
        expectDockgateRefusal(req, x, [400, 415]);
      } finally {
        await untag(f.dockerSocket, [`${queryRepo}:ok`, `${bodyRepo}:evil`, `${bodyRepo}:latest`]);
      }
    },
  );

  test('POST /build with an urlencoded body (t, networkmode=host): refused, no image at the daemon', async () => {
    const f = env();
    const req = buildRequest({
      method: 'POST',
      target: `/v1.41/build?t=${f.prefix}-build-query:1`,
      headers: [['Content-Type', 'application/x-www-form-urlencoded']],
      body: `t=${f.prefix}-build-body:1&networkmode=host&remote=http://127.0.0.1:1/ctx.tar`,
    });
    const x = await f.send(req);
    expect(await imagesMatching(f.dockerSocket, `${f.prefix}-build-*`), describeExchange(req, x)).toEqual([]);
    expectDockgateRefusal(req, x, [400, 415]);
  });

  test('POST /images/create with an urlencoded body (fromSrc/repo): refused, no image at the daemon', async () => {
    const f = env();
    const req = buildRequest({
      method: 'POST',
      target: `/v1.41/images/create?fromImage=${f.prefix}-pull-query&tag=1`,
      headers: [['Content-Type', 'application/x-www-form-urlencoded']],
      body: `fromImage=&fromSrc=-&repo=${f.prefix}-import-body&tag=1`,
    });
    const x = await f.send(req);
    expect(await imagesMatching(f.dockerSocket, `${f.prefix}-*`), describeExchange(req, x)).toEqual([]);
    expectDockgateRefusal(req, x, [400, 415]);
  });
});
