import { describe, expect, test } from 'vitest';
import { engineRequest } from '../support/engine-api.js';
import { TEST_LABEL } from '../support/dockerd.js';
import { useDockgate } from '../support/fixtures.js';
import { sendRaw, type RawExchange } from '../support/raw-http.js';

// The daemon's chunked answers (events, logs, archive downloads) reach an HTTP/1.1 client with the
// daemon's own chunk framing (src/proxy/forward.ts, passThrough): the bytes must still be a valid
// chunked body, end where the daemon's ends (so the connection carries the next request), and say
// what the daemon said. An HTTP/1.0 client cannot read chunks: it gets the body delimited by the
// close, as node:http frames it for such a client.

const env = useDockgate();

function request(version: '1.0' | '1.1', target: string): string {
  return `GET ${target} HTTP/${version}\r\nHost: docker\r\n\r\n`;
}

function describeRaw(x: RawExchange): string {
  return x.transcript.slice(0, 2000);
}

describe("the daemon's chunked answers", () => {
  test('HTTP/1.1: relayed chunked, twice on one connection, with the bodies the daemon sends', async () => {
    const { dockgate, dockerSocket, testImage } = env();
    const [key, value] = TEST_LABEL.split('=') as [string, string];
    // Something to report, then a closed window of events (the same answer every time).
    const created = await engineRequest(dockerSocket, 'POST', '/v1.41/containers/create', {
      body: JSON.stringify({ Image: testImage, Cmd: ['true'], Labels: { [key]: value } }),
    });
    expect(created.status, created.text()).toBe(201);
    const id = created.json<{ Id: string }>().Id;
    await engineRequest(dockerSocket, 'DELETE', `/v1.41/containers/${id}`);
    const until = Math.floor(Date.now() / 1000) + 1;
    await new Promise((r) => setTimeout(r, 1100));
    const target = `/v1.41/events?since=0&until=${until}`;

    const direct = await sendRaw(dockerSocket, request('1.1', target));
    expect(direct.responses, describeRaw(direct)).toHaveLength(1);
    expect(direct.responses[0]!.header('transfer-encoding')).toBe('chunked');
    expect(direct.responses[0]!.text()).toContain(id);

    const proxied = await sendRaw(dockgate.socketPath, [request('1.1', target), request('1.1', target)], { responses: 2 });
    expect(proxied.responses, describeRaw(proxied)).toHaveLength(2);
    for (const r of proxied.responses) {
      expect(r.status).toBe(200);
      expect(r.header('transfer-encoding')).toBe('chunked');
      expect(r.header('content-length')).toBeUndefined();
      expect(r.body.equals(direct.responses[0]!.body), describeRaw(proxied)).toBe(true);
    }
    expect(proxied.rest.length, 'bytes after the last chunked answer').toBe(0);
  });

  test('HTTP/1.0: the same body, delimited by the close', async () => {
    const { dockgate, dockerSocket } = env();
    const target = `/v1.41/events?since=0&until=${Math.floor(Date.now() / 1000) - 1}`;
    const direct = await sendRaw(dockerSocket, request('1.1', target));
    const proxied = await sendRaw(dockgate.socketPath, request('1.0', target), { timeoutMs: 10_000 });
    // The raw reader completes a close-delimited answer when the connection ends.
    expect(proxied.closed, describeRaw(proxied)).toBe(true);
    expect(proxied.responses, describeRaw(proxied)).toHaveLength(1);
    const r = proxied.responses[0]!;
    expect(r.status).toBe(200);
    expect(r.header('transfer-encoding')).toBeUndefined();
    expect(r.body.equals(direct.responses[0]!.body), describeRaw(proxied)).toBe(true);
  });
});
