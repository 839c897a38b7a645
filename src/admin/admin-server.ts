// The admin listener: /metrics (Prometheus), /healthz (the process is up) and /readyz (it can
// serve: a policy is in force and the daemon answers _ping). On loopback TCP or a unix socket
// only (config.ts refuses anything else), and separate from the proxy's listeners, so a scraper
// never needs access to the Docker API.
import type { ServerResponse } from 'node:http';
import http from '../runtime/node-http.js';
import type { AdminAddress } from '../config/config.js';
import { ListenerError, listenUnix, type BoundUnixSocket } from '../listener/unix-socket.js';
import type { Logger } from '../log/logger.js';

export type Readiness = { ready: true } | { ready: false; reason: string };

export interface AdminServerOptions {
  address: AdminAddress;
  log: Logger;
  /** The Prometheus exposition. */
  metrics: () => Promise<{ contentType: string; body: string }>;
  readiness: () => Promise<Readiness>;
}

export interface AdminServer {
  /** host:port or the socket path. */
  where: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const { log } = opts;
  const server = http.createServer({ requestTimeout: 10_000, headersTimeout: 10_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    const answer = async () => {
      switch (path) {
        case '/metrics': {
          const m = await opts.metrics();
          send(res, 200, m.contentType, m.body);
          return;
        }
        case '/healthz':
          send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
          return;
        case '/readyz': {
          const r = await opts.readiness();
          if (r.ready) send(res, 200, 'text/plain; charset=utf-8', 'ready\n');
          else send(res, 503, 'text/plain; charset=utf-8', `not ready: ${r.reason}\n`);
          return;
        }
        default:
          send(res, 404, 'text/plain; charset=utf-8', 'not found: /metrics, /healthz, /readyz\n');
      }
    };
    answer().catch((err: unknown) => {
      log.error({ err: (err as Error).message, path }, 'admin request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
    });
  });
  let bound: BoundUnixSocket | undefined;
  let where: string;
  if (opts.address.kind === 'unix') {
    bound = await listenUnix(server, { path: opts.address.path, mode: 0o660 });
    where = opts.address.path;
  } else {
    const { host, port } = opts.address;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(new ListenerError(`admin listener: cannot listen on ${opts.address.url}: ${err.message}`));
      server.once('error', onError);
      server.listen({ host, port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    const a = server.address();
    where = typeof a === 'object' && a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : `${host}:${port}`;
  }
  log.info({ admin: where }, 'admin listener serving /metrics, /healthz, /readyz');
  return {
    where,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await bound?.remove();
    },
  };
}
