// The load generator's HTTP client: node:http over a unix socket, timed with hrtime. The same
// client talks to every peer (daemon, HAProxy, dockgate, OPA), so its own cost is in every
// figure equally and cancels out of the ratios.
import http from 'node:http';
import { pipeline, type Readable } from 'node:stream';

export interface TimedResponse {
  status: number;
  /** From writing the request to the last byte of the answer. */
  ms: number;
  /** The answer, when `collect` was set (else empty). */
  body: Buffer;
  /** Bytes of answer body received. */
  bytes: number;
}

export interface RequestOptions {
  headers?: Record<string, string | number>;
  /** A small body sent in one write, or a stream factory for large uploads (with contentLength). */
  body?: Buffer | string | (() => Readable);
  contentLength?: number;
  /** Keep the answer's bytes (small JSON answers); big downloads are only counted. */
  collect?: boolean;
  timeoutMs?: number;
}

/** One keep-alive connection: the sequential-client setup of the latency figures. */
export function keepAliveAgent(maxSockets = 1): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly what: string,
    readonly text: string,
  ) {
    super(`${what}: HTTP ${status}: ${text.slice(0, 300)}`);
  }
}

export function send(
  socketPath: string,
  agent: http.Agent | false,
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<TimedResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { Host: 'docker', ...opts.headers };
    if (typeof opts.body === 'string' || Buffer.isBuffer(opts.body)) {
      headers['Content-Length'] = Buffer.byteLength(opts.body);
    } else if (opts.contentLength !== undefined) {
      headers['Content-Length'] = opts.contentLength;
    }
    const start = process.hrtime.bigint();
    const req = http.request({ socketPath, agent, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (opts.collect) chunks.push(c);
      });
      res.once('error', fail);
      res.once('end', () => {
        clearTimeout(timer);
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        resolve({ status: res.statusCode ?? 0, ms, body: opts.collect ? Buffer.concat(chunks) : Buffer.alloc(0), bytes });
      });
    });
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${path} via ${socketPath}: no answer within ${timeoutMs} ms`)), timeoutMs);
    function fail(err: Error): void {
      clearTimeout(timer);
      reject(err);
    }
    req.once('error', fail);
    if (typeof opts.body === 'function') {
      pipeline(opts.body(), req, (err) => {
        if (err) fail(err);
      });
    } else {
      req.end(opts.body);
    }
  });
}

/** `send` that insists on one of the expected statuses and keeps the answer. */
export async function sendExpect(
  socketPath: string,
  agent: http.Agent | false,
  method: string,
  path: string,
  expected: readonly number[],
  opts: RequestOptions = {},
): Promise<TimedResponse> {
  const res = await send(socketPath, agent, method, path, { ...opts, collect: true });
  if (!expected.includes(res.status)) throw new HttpStatusError(res.status, `${method} ${path} via ${socketPath}`, res.body.toString('utf8'));
  return res;
}
