import type { Agent, ClientRequest, RequestOptions } from 'node:http';
import http from '../runtime/node-http.js';
import net from 'node:net';
import type { UpstreamAddress } from './address.js';

// Go's http server accepts up to 1 MiB of headers; Node's default of 16 KiB would cut registry
// credentials and BuildKit session headers.
export const MAX_HEADER_BYTES = 1024 * 1024;

// The daemon, as dockgate talks to it: a keep-alive pool for ordinary requests, and dedicated
// half-open connections for hijacked streams (attach, exec start, BuildKit sessions).
export class Upstream {
  readonly address: UpstreamAddress;
  private readonly agent: Agent;

  constructor(address: UpstreamAddress) {
    this.address = address;
    this.agent = new http.Agent({
      keepAlive: true,
      // LIFO keeps a few hot sockets warm instead of cycling through all of them.
      scheduling: 'lifo',
      maxFreeSockets: 64,
    });
  }

  private target(): RequestOptions {
    return this.address.kind === 'unix'
      ? { socketPath: this.address.socketPath }
      : { host: this.address.host, port: this.address.port };
  }

  /** A request on the shared keep-alive pool. `headers` is a flat raw-header list. */
  request(method: string, path: string, headers: string[]): ClientRequest {
    return http.request({
      ...this.target(),
      agent: this.agent,
      method,
      path,
      headers,
      maxHeaderSize: MAX_HEADER_BYTES,
      // No timeout (neither here nor on the agent: Node sets none on the socket then). events,
      // logs -f and wait legitimately stay silent for hours.
    });
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
      createConnection: () =>
        address.kind === 'unix'
          ? net.connect({ path: address.socketPath, allowHalfOpen: true })
          : net.connect({ host: address.host, port: address.port, allowHalfOpen: true }),
    });
  }

  /** GET a JSON document from the daemon (lookups). Resolves with the status and parsed body. */
  getJson(path: string): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const req = this.request('GET', path, ['Host', 'docker']);
      req.once('error', reject);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', reject);
        res.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: text === '' ? null : JSON.parse(text) });
          } catch (err) {
            reject(new Error(`daemon answered ${path} with invalid JSON: ${(err as Error).message}`));
          }
        });
      });
      req.end();
    });
  }

  /** GET /_ping: resolves with the daemon's status code; rejects when it does not answer in time. */
  ping(timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = this.request('GET', '/_ping', ['Host', 'docker']);
      const timer = setTimeout(() => req.destroy(new Error(`no answer to /_ping within ${timeoutMs} ms`)), timeoutMs);
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.once('response', (res) => {
        clearTimeout(timer);
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
