import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseUpstream } from '../../src/upstream/address.js';
import { Upstream } from '../../src/upstream/client.js';
import type { ConnectionPool } from '../../src/upstream/connection-pool.js';
import type { UpstreamExchange } from '../../src/upstream/exchange.js';
import type { ResponseHead } from '../../src/upstream/response-parser.js';

// dockgate's own HTTP/1.1 client (src/upstream/exchange.ts, connection-pool.ts, client.ts) against
// a fake daemon on a unix socket that writes crafted raw bytes: keep-alive reuse and when a
// connection must not be reused, failures before and after the answer's head, the request body's
// framing on the wire, flow control, timeouts.

// ---------------------------------------------------------------------------------------------
// The fake daemon

interface RawRequest {
  head: string;
  /** The body as decoded (chunked or by length). */
  body: Buffer;
  /** The body's bytes as they came on the wire. */
  rawBody: Buffer;
}

/** One connection as the daemon sees it: what the client wrote, taken piece by piece. */
class Peer {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  closed = false;
  /** Resolves when the connection is closed (by either side). */
  readonly done: Promise<void>;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.notify();
    });
    socket.on('error', () => {});
    this.done = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        this.notify();
        resolve();
      }),
    );
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Takes the first `measure(buffered)` bytes once that is not -1; null if the connection closes first. */
  private async take(measure: (b: Buffer) => number): Promise<Buffer | null> {
    for (;;) {
      const n = measure(this.buf);
      if (n >= 0) {
        const out = this.buf.subarray(0, n);
        this.buf = this.buf.subarray(n);
        return out;
      }
      if (this.closed) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  upTo(terminator: string): Promise<Buffer | null> {
    return this.take((b) => {
      const i = b.indexOf(terminator);
      return i < 0 ? -1 : i + terminator.length;
    });
  }

  exactly(n: number): Promise<Buffer | null> {
    return this.take((b) => (b.length >= n ? n : -1));
  }

  /** Bytes received and not taken yet. */
  get buffered(): Buffer {
    return this.buf;
  }

  /** The next request (head, then a body framed by Content-Length or chunked); null on close. */
  async request(): Promise<RawRequest | null> {
    const headBuf = await this.upTo('\r\n\r\n');
    if (!headBuf) return null;
    return this.body(headBuf.toString('latin1'));
  }

  /** The body of the request whose head was `head`. */
  async body(head: string): Promise<RawRequest | null> {
    const cl = /\r\ncontent-length: *(\d+)\r\n/i.exec(head);
    if (/\r\ntransfer-encoding: *chunked\r\n/i.test(head)) {
      const raw: Buffer[] = [];
      const body: Buffer[] = [];
      for (;;) {
        const line = await this.upTo('\r\n');
        if (!line) return null;
        raw.push(line);
        const sizeText = /^([0-9a-fA-F]+)\r\n$/.exec(line.toString('latin1'));
        if (!sizeText) throw new Error(`bad chunk-size line ${JSON.stringify(line.toString('latin1'))}`);
        const size = parseInt(sizeText[1]!, 16);
        if (size === 0) {
          const end = await this.upTo('\r\n'); // no trailers from dockgate
          if (!end) return null;
          raw.push(end);
          break;
        }
        const data = await this.exactly(size + 2);
        if (!data) return null;
        raw.push(data);
        if (data[size] !== 0x0d || data[size + 1] !== 0x0a) throw new Error('chunk data not followed by CRLF');
        body.push(data.subarray(0, size));
      }
      return { head, body: Buffer.concat(body), rawBody: Buffer.concat(raw) };
    }
    const n = cl ? Number(cl[1]) : 0;
    const body = await this.exactly(n);
    if (!body) return null;
    return { head, body, rawBody: body };
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }
}

type Script = (peer: Peer, index: number) => void | Promise<void>;

class FakeDaemon {
  readonly peers: Peer[] = [];
  private arrivals: ((p: Peer) => void)[] = [];
  /** What the daemon does on each new connection (default: answers every request with JSON). */
  script: Script = serveJson;

  private constructor(
    readonly server: net.Server,
    readonly socketPath: string,
  ) {}

  static async start(socketPath: string): Promise<FakeDaemon> {
    let daemon: FakeDaemon | undefined;
    const server = net.createServer((socket) => daemon!.accept(socket));
    daemon = new FakeDaemon(server, socketPath);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    return daemon;
  }

  private accept(socket: net.Socket): void {
    const peer = new Peer(socket);
    const index = this.peers.push(peer) - 1;
    this.arrivals.shift()?.(peer);
    void Promise.resolve(this.script(peer, index)).catch(() => socket.destroy());
  }

  /** The connection with this index, once it is made. */
  async peer(index: number): Promise<Peer> {
    while (this.peers.length <= index) await new Promise<Peer>((resolve) => this.arrivals.push(resolve));
    return this.peers[index]!;
  }

  async close(): Promise<void> {
    for (const p of this.peers) p.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function answer(status: number, body: string | Buffer, headers: string[] = []): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const lines = [`HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Status'}`, 'Content-Type: application/json', `Content-Length: ${b.length}`, ...headers];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), b]);
}

/** Answers every request on the connection with {"path", "conn", "n"}, keep-alive. */
const serveJson: Script = async (peer, conn) => {
  for (let n = 0; ; n++) {
    const req = await peer.request();
    if (!req) return;
    const target = req.head.split(' ')[1];
    peer.write(answer(200, JSON.stringify({ path: target, conn, n })));
  }
};

// ---------------------------------------------------------------------------------------------
// The client side

interface Outcome {
  head: ResponseHead | undefined;
  body: Buffer;
  completed: boolean;
  error: Error | undefined;
  answered: boolean | undefined;
}

interface Call {
  exchange: UpstreamExchange;
  /** Settles with onComplete or onError. */
  done: Promise<Outcome>;
  /** Every handler call, in order (anything after the first onComplete/onError is a bug). */
  events: string[];
  bodyBytes(): number;
}

function call(
  upstream: Upstream,
  method: string,
  target: string,
  headers: string[] = ['Host', 'docker'],
  body: Buffer | Readable | null = null,
  hooks: { onHead?(c: Call): void; onBody?(chunk: Buffer, c: Call): void } = {},
): Call {
  const events: string[] = [];
  const chunks: Buffer[] = [];
  let received = 0;
  let head: ResponseHead | undefined;
  let resolve!: (o: Outcome) => void;
  const done = new Promise<Outcome>((r) => (resolve = r));
  const c = { events, done, bodyBytes: () => received } as Call;
  c.exchange = upstream.send(method, target, headers, body, {
    onHead(h) {
      events.push('head');
      head = h;
      hooks.onHead?.(c);
    },
    onBody(chunk) {
      events.push('body');
      received += chunk.length;
      chunks.push(Buffer.from(chunk));
      hooks.onBody?.(chunk, c);
    },
    onComplete() {
      events.push('complete');
      resolve({ head, body: Buffer.concat(chunks), completed: true, error: undefined, answered: undefined });
    },
    onError(err, answered) {
      events.push('error');
      resolve({ head, body: Buffer.concat(chunks), completed: false, error: err, answered });
    },
  });
  return c;
}

/** The number of settled handler calls (onComplete/onError) recorded. */
const settled = (events: string[]) => events.filter((e) => e === 'complete' || e === 'error').length;

const poolOf = (u: Upstream) => (u as unknown as { pool: ConnectionPool }).pool;

function pseudoRandom(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** A chunked body on the wire: `data` cut into chunks of varied sizes. */
function chunked(data: Buffer, seed: number): Buffer {
  const parts: Buffer[] = [];
  let x = seed;
  for (let at = 0; at < data.length; ) {
    x = (x * 1103515245 + 12345) >>> 0;
    const n = Math.min(data.length - at, 1 + (x % 70_000));
    parts.push(Buffer.from(`${n.toString(16)}\r\n`), data.subarray(at, at + n), Buffer.from('\r\n'));
    at += n;
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// ---------------------------------------------------------------------------------------------

let dir: string;
let daemon: FakeDaemon;
let upstream: Upstream;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dockgate-upstream-'));
  daemon = await FakeDaemon.start(path.join(dir, 'docker.sock'));
  upstream = new Upstream(parseUpstream(`unix://${daemon.socketPath}`));
});

afterEach(async () => {
  upstream.close();
  await daemon.close();
  await rm(dir, { recursive: true, force: true });
});

describe('keep-alive pool', () => {
  test('sequential requests use one connection', async () => {
    await expect(upstream.getJson('/a')).resolves.toEqual({ status: 200, body: { path: '/a', conn: 0, n: 0 } });
    await expect(upstream.getJson('/b')).resolves.toEqual({ status: 200, body: { path: '/b', conn: 0, n: 1 } });
    await expect(upstream.ping(5_000)).resolves.toBe(200);
    expect(daemon.peers).toHaveLength(1);
    expect(poolOf(upstream).size).toEqual({ idle: 1, total: 1 });
  });

  test('the request on the wire: request line, headers as given, Host', async () => {
    const heads: string[] = [];
    daemon.script = async (peer) => {
      for (;;) {
        const req = await peer.request();
        if (!req) return;
        heads.push(req.head);
        peer.write(answer(200, '{}'));
      }
    };
    const c = call(upstream, 'GET', '/v1.47/containers/json?all=1', ['Host', 'docker', 'X-Registry-Auth', 'abc', 'x-lower', 'v']);
    expect((await c.done).completed).toBe(true);
    await upstream.getJson('/info');
    expect(heads).toEqual([
      'GET /v1.47/containers/json?all=1 HTTP/1.1\r\nHost: docker\r\nX-Registry-Auth: abc\r\nx-lower: v\r\n\r\n',
      'GET /info HTTP/1.1\r\nHost: docker\r\n\r\n',
    ]);
  });

  test('an answer with Connection: close: the client closes that connection, the next request gets a new one', async () => {
    daemon.script = async (peer, conn) => {
      const req = await peer.request();
      if (!req) return;
      peer.write(answer(200, JSON.stringify({ conn }), conn === 0 ? ['Connection: close'] : []));
      await serveJson(peer, conn);
    };
    await expect(upstream.getJson('/a')).resolves.toEqual({ status: 200, body: { conn: 0 } });
    await daemon.peers[0]!.done; // closed by the client: the daemon itself left it open
    await expect(upstream.getJson('/b')).resolves.toEqual({ status: 200, body: { conn: 1 } });
    await expect(upstream.getJson('/c')).resolves.toMatchObject({ body: { conn: 1 } });
    expect(daemon.peers).toHaveLength(2);
  });

  test('an HTTP/1.0 answer without keep-alive is not reused; one with keep-alive is', async () => {
    daemon.script = async (peer, conn) => {
      for (;;) {
        const req = await peer.request();
        if (!req) return;
        const ka = conn === 1 ? 'Connection: keep-alive\r\n' : '';
        peer.write(`HTTP/1.0 200 OK\r\n${ka}Content-Length: 2\r\n\r\n{}`);
      }
    };
    await upstream.getJson('/a');
    await daemon.peers[0]!.done;
    await upstream.getJson('/b');
    await upstream.getJson('/c');
    expect(daemon.peers).toHaveLength(2);
  });

  test('the daemon closing an idle pooled connection: the next request works on a fresh one', async () => {
    await expect(upstream.getJson('/a')).resolves.toMatchObject({ body: { conn: 0 } });
    expect(poolOf(upstream).size).toEqual({ idle: 1, total: 1 });
    const first = daemon.peers[0]!;
    first.socket.end(); // Go's idle timeout
    await first.done; // the client noticed and closed its side
    await expect(upstream.getJson('/b')).resolves.toEqual({ status: 200, body: { path: '/b', conn: 1, n: 0 } });
    expect(daemon.peers).toHaveLength(2);
    expect(poolOf(upstream).size).toEqual({ idle: 1, total: 1 });
  });

  test('the daemon resetting an idle pooled connection: the next request works on a fresh one', async () => {
    await upstream.getJson('/a');
    const first = daemon.peers[0]!;
    first.socket.destroy();
    await first.done;
    // The client's side sees the end a moment later; the pool must not hand it out once it has.
    await new Promise<void>((resolve) => {
      const check = () => (poolOf(upstream).size.total === 0 ? resolve() : setImmediate(check));
      check();
    });
    await expect(upstream.getJson('/b')).resolves.toMatchObject({ body: { conn: 1 } });
  });

  test('bytes after a complete answer, in the same read: the answer stands, the connection is not reused', async () => {
    daemon.script = async (peer, conn) => {
      const req = await peer.request();
      if (!req) return;
      if (conn === 0) peer.write(Buffer.concat([answer(200, '{"conn":0}'), Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}')]));
      else peer.write(answer(200, JSON.stringify({ conn })));
    };
    const c = call(upstream, 'GET', '/a');
    const out = await c.done;
    expect(out.completed).toBe(true);
    expect(JSON.parse(out.body.toString())).toEqual({ conn: 0 });
    await daemon.peers[0]!.done;
    await expect(upstream.getJson('/b')).resolves.toMatchObject({ body: { conn: 1 } });
    expect(c.events).toEqual(['head', 'body', 'complete']);
  });

  test('bytes on an idle connection (nothing was asked): the connection is closed', async () => {
    await upstream.getJson('/a');
    const first = daemon.peers[0]!;
    first.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    await first.done;
    await expect(upstream.getJson('/b')).resolves.toMatchObject({ body: { conn: 1, n: 0 } });
  });

  test('concurrent requests get a connection each; the pool hands out the last released first', async () => {
    const askedOn = new Map<string, Peer>();
    let arrived!: () => void;
    const both = new Promise<void>((r) => (arrived = r));
    daemon.script = async (peer, conn) => {
      const req = await peer.request();
      if (!req) return;
      askedOn.set(req.head.split(' ')[1]!, peer);
      if (askedOn.size === 2) arrived();
      // The first answer is written by the test below; later ones at once.
      await serveJson(peer, conn);
    };
    const a = call(upstream, 'GET', '/a');
    const b = call(upstream, 'GET', '/b');
    await both;
    expect(poolOf(upstream).size).toEqual({ idle: 0, total: 2 });
    const peerA = askedOn.get('/a')!;
    const peerB = askedOn.get('/b')!;
    expect(peerA).not.toBe(peerB);
    // Released in the order a, b: the next requests go to b's connection (last in, first out).
    peerA.write(answer(200, '{}'));
    expect((await a.done).completed).toBe(true);
    peerB.write(answer(200, '{}'));
    expect((await b.done).completed).toBe(true);
    expect(poolOf(upstream).size).toEqual({ idle: 2, total: 2 });
    const connB = daemon.peers.indexOf(peerB);
    await expect(upstream.getJson('/c')).resolves.toMatchObject({ body: { conn: connB } });
    await expect(upstream.getJson('/d')).resolves.toMatchObject({ body: { conn: connB } });
    expect(daemon.peers).toHaveLength(2);
  });

  test('at most 64 idle connections are kept', async () => {
    const waiting: Peer[] = [];
    let all!: () => void;
    const arrived = new Promise<void>((r) => (all = r));
    daemon.script = async (peer) => {
      const req = await peer.request();
      if (!req) return;
      waiting.push(peer);
      if (waiting.length === 65) all();
    };
    const calls = Array.from({ length: 65 }, (_, i) => call(upstream, 'GET', `/${i}`));
    await arrived;
    expect(poolOf(upstream).size).toEqual({ idle: 0, total: 65 });
    for (const p of waiting) p.write(answer(200, '{}'));
    const outcomes = await Promise.all(calls.map((c) => c.done));
    expect(outcomes.every((o) => o.completed)).toBe(true);
    await Promise.race(daemon.peers.map((p) => p.done));
    expect(daemon.peers.filter((p) => p.closed)).toHaveLength(1);
    expect(poolOf(upstream).size.idle).toBe(64);
  });

  test('a HEAD answer with a Content-Length has no body and keeps the connection', async () => {
    daemon.script = async (peer) => {
      for (;;) {
        const req = await peer.request();
        if (!req) return;
        if (req.head.startsWith('HEAD ')) peer.write('HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: application/x-tar\r\n\r\n');
        else peer.write(answer(200, '{"after":"head"}'));
      }
    };
    const c = call(upstream, 'HEAD', '/containers/x/archive?path=/');
    const out = await c.done;
    expect(out).toMatchObject({ completed: true, head: { status: 200, framing: 'none' } });
    expect(out.body.length).toBe(0);
    await expect(upstream.getJson('/x')).resolves.toEqual({ status: 200, body: { after: 'head' } });
    expect(daemon.peers).toHaveLength(1);
  });

  test('100 Continue before the answer is skipped on the wire too', async () => {
    daemon.script = async (peer) => {
      await peer.request();
      peer.write('HTTP/1.1 100 Continue\r\n\r\n');
      peer.write(answer(200, '{"ok":true}'));
      await serveJson(peer, 0);
    };
    const c = call(upstream, 'GET', '/a');
    expect(await c.done).toMatchObject({ completed: true, head: { status: 200 } });
    expect(c.events.filter((e) => e === 'head')).toHaveLength(1);
    await upstream.getJson('/b');
    expect(daemon.peers).toHaveLength(1);
  });

  test('a close-delimited answer completes at the end of the connection, which is not reused', async () => {
    daemon.script = async (peer, conn) => {
      if (conn > 0) return serveJson(peer, conn);
      await peer.request();
      peer.write('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\nraw ');
      peer.write('stream');
      peer.socket.end();
    };
    const c = call(upstream, 'POST', '/containers/x/attach', ['Host', 'docker', 'Content-Length', '0']);
    const out = await c.done;
    expect(out).toMatchObject({ completed: true, head: { framing: 'close', keepAlive: false } });
    expect(out.body.toString()).toBe('raw stream');
    await expect(upstream.getJson('/b')).resolves.toMatchObject({ body: { conn: 1 } });
  });
});

describe('failures', () => {
  test('a connection cut in the middle of the body: onError with answered=true, nothing after', async () => {
    daemon.script = async (peer) => {
      await peer.request();
      peer.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789');
      peer.socket.end();
    };
    const c = call(upstream, 'GET', '/a');
    const out = await c.done;
    expect(out).toMatchObject({ completed: false, answered: true, head: { status: 200 } });
    expect(out.error!.message).toMatch(/middle of the answer/);
    expect(out.body.toString()).toBe('0123456789');
    await daemon.peers[0]!.done;
    expect(settled(c.events)).toBe(1);
    expect(c.events.at(-1)).toBe('error');
    expect(poolOf(upstream).size.idle).toBe(0);
  });

  test('a chunked answer cut between chunks: onError with answered=true; getJson rejects', async () => {
    daemon.script = async (peer) => {
      await peer.request();
      peer.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n');
      peer.socket.end();
    };
    const out = await call(upstream, 'GET', '/a').done;
    expect(out).toMatchObject({ completed: false, answered: true });
    await expect(upstream.getJson('/b')).rejects.toThrow(/middle of the answer/);
  });

  test('a connection cut before the head: onError with answered=false; getJson rejects', async () => {
    daemon.script = async (peer) => {
      await peer.request();
      peer.socket.end();
    };
    const c = call(upstream, 'GET', '/a');
    const out = await c.done;
    expect(out).toMatchObject({ completed: false, answered: false, head: undefined });
    expect(out.error!.message).toMatch(/without answering/);
    expect(c.events).toEqual(['error']);
    await expect(upstream.getJson('/b')).rejects.toThrow(/without answering/);
  });

  test('a connection cut in the middle of the head: answered=false', async () => {
    daemon.script = async (peer) => {
      await peer.request();
      peer.write('HTTP/1.1 200 OK\r\nContent-Len');
      peer.socket.end();
    };
    const out = await call(upstream, 'GET', '/a').done;
    expect(out).toMatchObject({ completed: false, answered: false });
  });

  test('a connection reset before the head: answered=false', async () => {
    daemon.script = async (peer) => {
      await peer.request();
      peer.socket.destroy();
    };
    const out = await call(upstream, 'GET', '/a').done;
    expect(out).toMatchObject({ completed: false, answered: false });
  });

  test('not HTTP: onError with answered=false, the connection closed', async () => {
    daemon.script = async (peer) => {
      await peer.request();
      peer.write('SSH-2.0-OpenSSH_9.6\r\n\r\n');
    };
    const out = await call(upstream, 'GET', '/a').done;
    expect(out).toMatchObject({ completed: false, answered: false });
    expect(out.error!.name).toBe('Error');
    expect(out.error!.message).toMatch(/invalid status line/);
    await daemon.peers[0]!.done;
  });

  test('a bad chunk in the middle of the body: onError with answered=true, the connection closed', async () => {
    daemon.script = async (peer) => {
      await peer.request();
      peer.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\nZZ\r\n');
    };
    const c = call(upstream, 'GET', '/a');
    const out = await c.done;
    expect(out).toMatchObject({ completed: false, answered: true });
    expect(out.error!.message).toMatch(/invalid chunk size/);
    await daemon.peers[0]!.done;
    expect(c.events).toEqual(['head', 'body', 'error']);
  });

  test('no daemon at the socket path: onError with answered=false; getJson rejects', async () => {
    const gone = new Upstream(parseUpstream(`unix://${path.join(dir, 'nothing.sock')}`));
    try {
      const out = await call(gone, 'GET', '/a').done;
      expect(out).toMatchObject({ completed: false, answered: false });
      expect((out.error as NodeJS.ErrnoException).code).toBe('ENOENT');
      await expect(gone.getJson('/b')).rejects.toThrow(/ENOENT/);
      await expect(gone.ping(5_000)).rejects.toThrow(/ENOENT/);
    } finally {
      gone.close();
    }
  });

  test('abort() mid-body: the handler hears nothing more, the connection is closed and not reused', async () => {
    daemon.script = async (peer, conn) => {
      if (conn > 0) return serveJson(peer, conn);
      await peer.request();
      peer.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
      // More arrives after the abort is requested below.
      await peer.done;
    };
    const c = call(upstream, 'GET', '/logs?follow=1', ['Host', 'docker'], null, {
      onBody: (_chunk, self) => self.exchange.abort(),
    });
    await (await daemon.peer(0)).done;
    expect(c.events).toEqual(['head', 'body']);
    c.exchange.abort(); // twice is harmless
    c.exchange.pause();
    c.exchange.resume();
    await expect(upstream.getJson('/b')).resolves.toMatchObject({ body: { conn: 1 } });
    expect(c.events).toEqual(['head', 'body']);
  });

  test('abort() from onHead: no body, no completion', async () => {
    daemon.script = async (peer) => {
      await peer.request();
      peer.write(answer(200, '{"a":1}'));
    };
    const c = call(upstream, 'GET', '/a', ['Host', 'docker'], null, { onHead: (self) => self.exchange.abort() });
    await (await daemon.peer(0)).done;
    expect(c.events).toEqual(['head']);
  });
});

// The race of keep-alive: the daemon closes a kept connection just as a request goes out on it.
// A body-less GET or HEAD that got no byte of an answer is sent again, once, on a new connection;
// anything else fails (it may have had an effect), as does a request on a fresh connection.
describe('a kept-alive connection closed under a request', () => {
  /** Connection 0 answers its first request, then takes the second and closes without answering. */
  const closeOnSecond: Script = async (peer, conn) => {
    if (conn > 0) return serveJson(peer, conn);
    const first = await peer.request();
    if (!first) return;
    peer.write(answer(200, JSON.stringify({ conn, n: 0 })));
    await peer.upTo('\r\n\r\n');
    peer.socket.end();
  };

  test('a GET is replayed once on a new connection and answered there', async () => {
    daemon.script = closeOnSecond;
    await expect(upstream.getJson('/a')).resolves.toMatchObject({ status: 200, body: { conn: 0 } });
    const c = call(upstream, 'GET', '/b');
    const out = await c.done;
    expect(out.completed, String(out.error)).toBe(true);
    expect(JSON.parse(out.body.toString())).toEqual({ path: '/b', conn: 1, n: 0 });
    expect(c.events).toEqual(['head', 'body', 'complete']);
    expect(daemon.peers).toHaveLength(2);
  });

  test('a POST is not replayed: onError with answered=false, the daemon saw it once', async () => {
    daemon.script = closeOnSecond;
    await upstream.getJson('/a');
    const c = call(upstream, 'POST', '/containers/create', ['Host', 'docker', 'Content-Length', '2'], Buffer.from('{}'));
    const out = await c.done;
    expect(out).toMatchObject({ completed: false, answered: false });
    expect(daemon.peers).toHaveLength(1);
  });

  test('a GET on a fresh connection closed without an answer is not replayed', async () => {
    daemon.script = async (peer, conn) => {
      if (conn > 0) return serveJson(peer, conn);
      await peer.request();
      peer.socket.end();
    };
    const out = await call(upstream, 'GET', '/a').done;
    expect(out).toMatchObject({ completed: false, answered: false });
    expect(out.error!.message).toMatch(/without answering/);
    expect(daemon.peers).toHaveLength(1);
  });

  test('a GET whose answer had begun is not replayed', async () => {
    daemon.script = async (peer, conn) => {
      if (conn > 0) return serveJson(peer, conn);
      await peer.request();
      peer.write(answer(200, '{}'));
      await peer.upTo('\r\n\r\n');
      peer.write('HTTP/1.1 200 OK\r\nContent-Le');
      peer.socket.end();
    };
    await upstream.getJson('/a');
    const out = await call(upstream, 'GET', '/b').done;
    expect(out).toMatchObject({ completed: false, answered: false });
    expect(daemon.peers).toHaveLength(1);
  });

  test('replayed once only: a second close fails the request', async () => {
    daemon.script = async (peer, conn) => {
      if (conn === 0) {
        await peer.request();
        peer.write(answer(200, '{}'));
      }
      await peer.upTo('\r\n\r\n');
      peer.socket.end();
    };
    await upstream.getJson('/a');
    const out = await call(upstream, 'GET', '/b').done;
    expect(out).toMatchObject({ completed: false, answered: false });
    expect(daemon.peers).toHaveLength(2);
  });
});

describe('request bodies', () => {
  function recordRequests(): RawRequest[] {
    const got: RawRequest[] = [];
    daemon.script = async (peer, conn) => {
      for (;;) {
        const req = await peer.request();
        if (!req) return;
        got.push(req);
        peer.write(answer(200, JSON.stringify({ conn, n: got.length })));
      }
    };
    return got;
  }

  test('a streamed body without Content-Length goes chunked (empty pieces skipped); the connection is reused', async () => {
    const got = recordRequests();
    const source = Readable.from([Buffer.from('hello'), Buffer.alloc(0), Buffer.from(' '), Buffer.from('world, 0123456789abcdef!')]);
    const c = call(upstream, 'POST', '/build', ['Host', 'docker', 'Content-Type', 'application/x-tar'], source);
    expect((await c.done).completed).toBe(true);
    expect(got[0]!.head).toBe('POST /build HTTP/1.1\r\nHost: docker\r\nContent-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n');
    expect(got[0]!.rawBody.toString('latin1')).toBe('5\r\nhello\r\n1\r\n \r\n18\r\nworld, 0123456789abcdef!\r\n0\r\n\r\n');
    expect(got[0]!.body.toString()).toBe('hello world, 0123456789abcdef!');
    await expect(upstream.getJson('/next')).resolves.toMatchObject({ body: { conn: 0, n: 2 } });
    expect(daemon.peers).toHaveLength(1);
    expect(daemon.peers[0]!.buffered.length).toBe(0);
  });

  test('an empty streamed body without Content-Length is the last chunk alone', async () => {
    const got = recordRequests();
    const c = call(upstream, 'POST', '/x', ['Host', 'docker'], Readable.from([]));
    expect((await c.done).completed).toBe(true);
    expect(got[0]!.rawBody.toString('latin1')).toBe('0\r\n\r\n');
  });

  test('a streamed body of strings is chunked by its bytes, not its characters', async () => {
    // Upstream.send takes any Readable; one that yields strings (Readable.from(strings), or a
    // stream with setEncoding) must be framed by the byte length of what is written.
    const got = recordRequests();
    const c = call(upstream, 'POST', '/x', ['Host', 'docker'], Readable.from(['héllo ', '✓']));
    const out = await c.done;
    expect(out.error).toBeUndefined();
    expect(got[0]!.body.toString('utf8')).toBe('héllo ✓');
    expect(got[0]!.rawBody.toString('latin1')).toBe(`7\r\n${Buffer.from('héllo ').toString('latin1')}\r\n3\r\n${Buffer.from('✓').toString('latin1')}\r\n0\r\n\r\n`);
  });

  test('a streamed body with Content-Length goes as is, not chunked', async () => {
    const got = recordRequests();
    const source = Readable.from([Buffer.from('{"Image":'), Buffer.from('"alpine"}')]);
    const c = call(upstream, 'POST', '/containers/create', ['Host', 'docker', 'Content-Length', '18'], source);
    expect((await c.done).completed).toBe(true);
    expect(got[0]!.head).toBe('POST /containers/create HTTP/1.1\r\nHost: docker\r\nContent-Length: 18\r\n\r\n');
    expect(got[0]!.head).not.toMatch(/transfer-encoding/i);
    expect(got[0]!.rawBody.toString()).toBe('{"Image":"alpine"}');
    // Nothing else was written: the next request starts right after the body.
    await expect(upstream.getJson('/next')).resolves.toMatchObject({ body: { conn: 0, n: 2 } });
    expect(daemon.peers[0]!.buffered.length).toBe(0);
  });

  test('a whole body (Buffer) goes as is after the head', async () => {
    const got = recordRequests();
    const body = Buffer.from('{"Cmd":["true"]}');
    const c = call(upstream, 'POST', '/containers/create', ['Host', 'docker', 'Content-Type', 'application/json', 'Content-Length', String(body.length)], body);
    expect((await c.done).completed).toBe(true);
    expect(got[0]!.head).not.toMatch(/transfer-encoding/i);
    expect(got[0]!.rawBody.equals(body)).toBe(true);
    await expect(upstream.getJson('/next')).resolves.toMatchObject({ body: { conn: 0 } });
  });

  test('a large streamed body with backpressure arrives intact, chunked', async () => {
    const got = recordRequests();
    const data = pseudoRandom(6 * 1024 * 1024 + 123, 99);
    const pieces: Buffer[] = [];
    for (let at = 0; at < data.length; at += 65_536) pieces.push(data.subarray(at, at + 65_536));
    const c = call(upstream, 'POST', '/images/load', ['Host', 'docker'], Readable.from(pieces));
    expect((await c.done).completed).toBe(true);
    expect(sha(got[0]!.body)).toBe(sha(data));
  });

  test('a daemon that does not read holds the streamed body back (the source is paused), then gets all of it', async () => {
    let readAgain!: () => void;
    const release = new Promise<void>((r) => (readAgain = r));
    let received: RawRequest | null = null;
    daemon.script = async (peer) => {
      const head = await peer.upTo('\r\n\r\n');
      peer.socket.pause(); // a busy daemon: reads nothing more for now
      await release;
      peer.socket.resume();
      received = await peer.body(head!.toString('latin1'));
      peer.write(answer(200, '{}'));
    };
    const total = 32 * 1024 * 1024;
    const piece = pseudoRandom(64 * 1024, 5);
    let pulled = 0;
    let exhausted!: () => void;
    const allPulled = new Promise<void>((r) => (exhausted = r));
    const source = Readable.from(
      (function* () {
        for (; pulled < total; pulled += piece.length) yield piece;
        exhausted();
      })(),
    );
    const paused = new Promise<void>((r) => source.once('pause', () => r()));
    const c = call(upstream, 'POST', '/images/load', ['Host', 'docker'], source);
    await Promise.race([paused, allPulled]);
    expect(source.readableFlowing).toBe(false);
    expect(pulled).toBeLessThan(total / 2);
    readAgain();
    expect((await c.done).completed).toBe(true);
    expect(received!.body.length).toBe(total);
    const expected = createHash('sha256');
    for (let i = 0; i < total / piece.length; i++) expected.update(piece);
    expect(sha(received!.body)).toBe(expected.digest('hex'));
  });

  test('an answer that arrives before the request body is complete closes that connection', async () => {
    daemon.script = async (peer, conn) => {
      if (conn > 0) return serveJson(peer, conn);
      await peer.upTo('\r\n\r\n');
      await peer.upTo('part one');
      // Refused before the body is read through (e.g. a denied or too large upload).
      peer.write(answer(400, '{"message":"no"}'));
      await peer.done;
    };
    const source = new PassThrough();
    source.write('part one');
    const c = call(upstream, 'POST', '/images/load', ['Host', 'docker'], source);
    const out = await c.done;
    expect(out).toMatchObject({ completed: true, head: { status: 400, keepAlive: true } });
    expect(out.body.toString()).toBe('{"message":"no"}');
    await daemon.peers[0]!.done; // closed by the client although the answer allowed keep-alive
    expect(source.listenerCount('data')).toBe(0);
    expect(source.listenerCount('end')).toBe(0);
    source.end('part two'); // nothing listens any more: no write on a destroyed socket
    await expect(upstream.getJson('/b')).resolves.toMatchObject({ body: { conn: 1 } });
    expect(settled(c.events)).toBe(1);
  });

  test('an answer before a Content-Length body is complete also closes the connection', async () => {
    daemon.script = async (peer, conn) => {
      if (conn > 0) return serveJson(peer, conn);
      await peer.upTo('\r\n\r\n');
      peer.write(answer(413, '{}'));
      await peer.done;
    };
    const source = new PassThrough();
    const c = call(upstream, 'PUT', '/containers/x/archive', ['Host', 'docker', 'Content-Length', '1000'], source);
    expect(await c.done).toMatchObject({ completed: true, head: { status: 413 } });
    await daemon.peers[0]!.done;
    await expect(upstream.getJson('/b')).resolves.toMatchObject({ body: { conn: 1 } });
  });
});

describe('flow control', () => {
  test('pause()/resume() on every body chunk: a multi-MiB chunked answer arrives whole', async () => {
    const data = pseudoRandom(5 * 1024 * 1024 + 7, 1234);
    daemon.script = async (peer) => {
      for (;;) {
        const req = await peer.request();
        if (!req) return;
        if (req.head.startsWith('GET /big ')) {
          peer.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
          peer.write(chunked(data, 42));
        } else {
          peer.write(answer(200, '{"after":true}'));
        }
      }
    };
    let pauses = 0;
    const c = call(upstream, 'GET', '/big', ['Host', 'docker'], null, {
      onBody(_chunk, self) {
        pauses++;
        self.exchange.pause();
        setImmediate(() => self.exchange.resume());
      },
    });
    const out = await c.done;
    expect(out.completed).toBe(true);
    expect(out.body.length).toBe(data.length);
    expect(sha(out.body)).toBe(sha(data));
    expect(pauses).toBeGreaterThan(10);
    // The connection was left flowing for the next exchange.
    await expect(upstream.getJson('/next')).resolves.toEqual({ status: 200, body: { after: true } });
    expect(daemon.peers).toHaveLength(1);
  });

  test('a paused exchange stops reading: the daemon is held back until resume()', async () => {
    const data = pseudoRandom(8 * 1024 * 1024, 77);
    let flushed = false;
    daemon.script = async (peer) => {
      await peer.request();
      peer.write(`HTTP/1.1 200 OK\r\nContent-Length: ${data.length}\r\n\r\n`);
      peer.socket.write(data, () => (flushed = true));
    };
    let firstBody!: () => void;
    const gotFirst = new Promise<void>((r) => (firstBody = r));
    let paused = false;
    const c = call(upstream, 'GET', '/export', ['Host', 'docker'], null, {
      onBody(_chunk, self) {
        if (!paused) {
          paused = true;
          self.exchange.pause();
          firstBody();
        }
      },
    });
    await gotFirst;
    await new Promise((r) => setImmediate(r));
    const atPause = c.bodyBytes();
    // Nothing to wait for here but the absence of progress: a bounded pause, long enough for
    // 8 MiB to cross a unix socket many times over if the exchange kept reading.
    await new Promise((r) => setTimeout(r, 100));
    expect(c.bodyBytes()).toBe(atPause);
    expect(atPause).toBeLessThan(data.length / 2);
    expect(flushed).toBe(false);
    expect(daemon.peers[0]!.socket.writableLength).toBeGreaterThan(0);
    c.exchange.resume();
    const out = await c.done;
    expect(out.completed).toBe(true);
    expect(sha(out.body)).toBe(sha(data));
  });

  test('an exchange paused when its answer completes leaves the connection flowing for the next', async () => {
    // The whole answer in one read: the handler pauses on its body, the answer completes at once.
    const c = call(upstream, 'GET', '/a', ['Host', 'docker'], null, { onBody: (_chunk, self) => self.exchange.pause() });
    expect((await c.done).completed).toBe(true);
    await expect(upstream.getJson('/b')).resolves.toMatchObject({ body: { conn: 0, n: 1 } });
    expect(daemon.peers).toHaveLength(1);
  });
});

describe('Upstream helpers', () => {
  test('getJson parses JSON, chunked or not, and an empty body as null', async () => {
    daemon.script = async (peer) => {
      for (;;) {
        const req = await peer.request();
        if (!req) return;
        const target = req.head.split(' ')[1];
        if (target === '/chunked') peer.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n3\r\n:[1\r\n2\r\n]}\r\n0\r\n\r\n');
        else if (target === '/empty') peer.write('HTTP/1.1 204 No Content\r\n\r\n');
        else if (target === '/missing') peer.write(answer(404, '{"message":"No such container: x"}'));
        else peer.write(answer(200, '{"ID":"abc","Containers":3}'));
      }
    };
    await expect(upstream.getJson('/info')).resolves.toEqual({ status: 200, body: { ID: 'abc', Containers: 3 } });
    await expect(upstream.getJson('/chunked')).resolves.toEqual({ status: 200, body: { a: [1] } });
    await expect(upstream.getJson('/empty')).resolves.toEqual({ status: 204, body: null });
    await expect(upstream.getJson('/missing')).resolves.toEqual({ status: 404, body: { message: 'No such container: x' } });
    expect(daemon.peers).toHaveLength(1);
  });

  test('getJson rejects invalid JSON', async () => {
    daemon.script = async (peer) => {
      await peer.request();
      peer.write(answer(200, '{"truncated":'));
    };
    await expect(upstream.getJson('/containers/x/json')).rejects.toThrow(/daemon answered \/containers\/x\/json with invalid JSON/);
  });

  test('ping() resolves with the status', async () => {
    daemon.script = async (peer) => {
      for (;;) {
        const req = await peer.request();
        if (!req) return;
        peer.write('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\nno');
      }
    };
    await expect(upstream.ping(5_000)).resolves.toBe(500);
  });

  test('ping() rejects when the daemon does not answer in time, and closes that connection', async () => {
    daemon.script = async (peer, conn) => {
      if (conn > 0) return serveJson(peer, conn);
      await peer.request(); // and never answers
    };
    await expect(upstream.ping(50)).rejects.toThrow(/no answer to \/_ping within 50 ms/);
    await daemon.peers[0]!.done;
    await expect(upstream.ping(5_000)).resolves.toBe(200);
    expect(daemon.peers).toHaveLength(2);
  });

  test('close() destroys every connection, idle or in use; in-flight exchanges fail', async () => {
    let stuck!: () => void;
    const asked = new Promise<void>((r) => (stuck = r));
    daemon.script = async (peer, conn) => {
      if (conn > 0) return serveJson(peer, conn);
      await peer.request(); // and never answers
      stuck();
    };
    const c = call(upstream, 'GET', '/stuck');
    await asked;
    await expect(upstream.getJson('/idle')).resolves.toMatchObject({ body: { conn: 1 } });
    expect(poolOf(upstream).size).toEqual({ idle: 1, total: 2 });
    upstream.close();
    const out = await c.done;
    expect(out).toMatchObject({ completed: false, answered: false });
    await Promise.all(daemon.peers.map((p) => p.done));
    await new Promise<void>((resolve) => {
      const check = () => (poolOf(upstream).size.total === 0 ? resolve() : setImmediate(check));
      check();
    });
    expect(poolOf(upstream).size).toEqual({ idle: 0, total: 0 });
    expect(settled(c.events)).toBe(1);
  });
});
