import type { ClientRequest } from 'node:http';
import http from '../runtime/node-http.js';
import net from 'node:net';
import type { Readable } from 'node:stream';
import type { UpstreamAddress } from './address.js';
import { ConnectionPool } from './connection-pool.js';
import type { ExchangeHandler, UpstreamExchange } from './exchange.js';

// Go's http server accepts up to 1 MiB of headers; Node's default of 16 KiB would cut registry
// credentials and BuildKit session headers.
export const MAX_HEADER_BYTES = 1024 * 1024;

/** A new connection to the daemon; `noDelay` matters on TCP only. */
function connectTo(address: UpstreamAddress, opts: { noDelay?: boolean; allowHalfOpen?: boolean }): net.Socket {
  return address.kind === 'unix' ? net.connect({ path: address.socketPath, allowHalfOpen: opts.allowHalfOpen }) : net.connect({ host: address.host, port: address.port, ...opts });
}

const METHOD = /^[A-Z]+$/;
const REQUEST_TARGET = /^\/[\u0021-\u00ff]*$/;

// The daemon, as dockgate talks to it: a keep-alive pool of connections for ordinary requests
// (our own HTTP/1.1 client: exchange.ts), and dedicated half-open connections for hijacked
// streams (attach, exec start, BuildKit sessions: node:http's client, which handles the 101).
// Neither sets a timeout on the daemon's answers: events, logs -f and wait legitimately stay
// silent for hours (a client that goes away ends them; ping() has its own deadline).
export class Upstream {
  readonly address: UpstreamAddress;
  private readonly pool: ConnectionPool;

  constructor(address: UpstreamAddress) {
    this.address = address;
    this.pool = new ConnectionPool(() => connectTo(address, { noDelay: true }));
  }

  /**
   * Sends a request on the keep-alive pool and hands its answer to `handler`. `headers` is a flat
   * raw-header list sent as is; `body` is the whole body, or a stream sent as it comes: with its
   * Content-Length when `headers` gives one, else chunked.
   */
  send(method: string, path: string, headers: readonly string[], body: Buffer | Readable | null, handler: ExchangeHandler): UpstreamExchange {
    // Both come from a parsed request already; this keeps a bug upstream of here from writing a
    // second request line into the connection.
    if (!METHOD.test(method) || !REQUEST_TARGET.test(path)) throw new TypeError(`not a request line dockgate sends: ${JSON.stringify(`${method} ${path}`.slice(0, 200))}`);
    let head = `${method} ${path} HTTP/1.1\r\n`;
    let length = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      if (name.length === 14 && name.toLowerCase() === 'content-length') length = true;
      head += `${name}: ${headers[i + 1]}\r\n`;
    }
    const streamed = body !== null && !Buffer.isBuffer(body);
    if (streamed && !length) head += 'Transfer-Encoding: chunked\r\n';
    else if (!streamed && body !== null && body.length > 0 && !length) head += `Content-Length: ${body.length}\r\n`;
    head += '\r\n';
    const exchange = this.pool.start(method, MAX_HEADER_BYTES, handler);
    if (streamed) exchange.stream(head, body, !length);
    else exchange.send(head, body);
    return exchange;
  }

  /** A request on its own connection that may be upgraded (101) and then spliced raw. */
  upgradeRequest(method: string, path: string, headers: string[]): ClientRequest {
    const address = this.address;
    return http.request({
      method,
      path,
      headers,
      maxHeaderSize: MAX_HEADER_BYTES,
      // allowHalfOpen: the container may still be writing after the client's stdin ended.
      createConnection: () => connectTo(address, { allowHalfOpen: true }),
    });
  }

  /** GET a JSON document from the daemon (lookups). Resolves with the status and parsed body. */
  getJson(path: string): Promise<{ status: number; body: unknown }> {
    return this.collect('GET', path).then(({ status, body }) => {
      const text = body.toString('utf8');
      try {
        return { status, body: text === '' ? null : JSON.parse(text) };
      } catch (err) {
        throw new Error(`daemon answered ${path} with invalid JSON: ${(err as Error).message}`);
      }
    });
  }

  /** GET /_ping: resolves with the daemon's status code; rejects when it does not answer in time. */
  ping(timeoutMs: number): Promise<number> {
    return this.collect('GET', '/_ping', timeoutMs).then(({ status }) => status);
  }

  /** A body-less request whose whole answer is wanted (lookups, health checks). */
  private collect(method: string, path: string, timeoutMs?: number): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let status = 0;
      let timer: NodeJS.Timeout | undefined;
      const exchange = this.send(method, path, ['Host', 'docker'], null, {
        onHead: (head) => {
          status = head.status;
        },
        onBody: (chunk) => chunks.push(chunk),
        onComplete: () => {
          clearTimeout(timer);
          resolve({ status, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
        },
        onError: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          exchange.abort();
          reject(new Error(`no answer to ${path} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /** Closes every pooled connection, idle or in use. */
  close(): void {
    this.pool.close();
  }
}
