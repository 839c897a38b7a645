import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import http from '../runtime/node-http.js';
import type https from 'node:https';
import { createRequire } from 'node:module';
import type { TlsOptions } from 'node:tls';
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import { MAX_HEADER_BYTES, type Upstream } from '../upstream/client.js';
import { sendDockerError, writeDockerErrorToSocket } from './docker-error.js';
import { forward } from './forward.js';
import type { RequestGate } from './gate.js';
import { relayUpgrade } from './hijack.js';
import { BodyReadError, readUpgradeBody } from './upgrade-body.js';

const loadHttps = (): typeof https => createRequire(import.meta.url)('node:https') as typeof https;

export interface ProxyServerOptions {
  upstream: Upstream;
  gate: RequestGate;
  log: Logger;
  /** How long a client may take to send an upgrade request's small body. */
  bodyDeadlineMs?: number;
  /** How long a client may take to send a request's headers (slowloris); default 60 s. */
  headersTimeoutMs?: number;
  /** Serve HTTPS with these options (the mutual-TLS listener) instead of plain HTTP. */
  tls?: TlsOptions;
  /** Counts requests in flight, hijacked streams and upstream latency (src/metrics/metrics.ts). */
  metrics?: ProxyMetrics;
  /** The listener's name, as the metrics label it. */
  listener?: string;
}

/** What the proxy reports; DockgateMetrics implements it. */
export interface ProxyMetrics {
  requestStarted(listener: string): void;
  requestEnded(listener: string): void;
  hijackOpened(listener: string): void;
  hijackClosed(listener: string): void;
  upstreamTimer(kind: 'request' | 'upgrade'): () => void;
}

const NO_METRICS: ProxyMetrics = {
  requestStarted: () => {},
  requestEnded: () => {},
  hijackOpened: () => {},
  hijackClosed: () => {},
  upstreamTimer: () => () => {},
};

export interface ProxyServer {
  /** An https.Server (also an http.Server) when `tls` was given. */
  server: Server;
  /** Hijacked connections currently open (attach, exec, sessions). */
  readonly hijacked: ReadonlySet<Socket>;
  /**
   * Stops accepting, lets requests in flight (admissions, streaming responses such as logs -f)
   * and hijacked streams finish up to `graceMs`, then cuts what is left.
   */
  shutdown(graceMs: number): Promise<void>;
}

// A refused request's unread body is never forwarded; rather than drain an arbitrarily large
// body to keep the connection, close it after the answer.
function refuseRequest(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  if (!req.complete) res.shouldKeepAlive = false;
  sendDockerError(res, status, message);
  if (!req.complete) res.once('finish', () => req.socket.destroySoon());
}

export function createProxyServer(opts: ProxyServerOptions): ProxyServer {
  const { upstream, gate, log } = opts;
  const bodyDeadlineMs = opts.bodyDeadlineMs ?? 30_000;
  const hijacked = new Set<Socket>();
  const headersTimeoutMs = opts.headersTimeoutMs ?? 60_000;
  const metrics = opts.metrics ?? NO_METRICS;
  const listener = opts.listener ?? 'default';

  const httpOptions: ServerOptions = {
    maxHeaderSize: MAX_HEADER_BYTES,
    // No overall request deadline: builds and archive uploads stream for as long as they need.
    requestTimeout: 0,
    headersTimeout: headersTimeoutMs,
    // Node enforces headersTimeout on this sweep (default every 30 s): sweep often enough that
    // a slow client is cut within a quarter of the deadline after it.
    connectionsCheckingInterval: Math.min(30_000, Math.max(100, headersTimeoutMs / 4)),
    // Above the Go client's 30 s idle-connection reuse, so the CLI never reuses a closed socket.
    keepAliveTimeout: 65_000,
    // Duplicate headers stay separate in rawHeaders (BuildKit repeats X-Docker-Expose-Session-*).
    joinDuplicateHeaders: false,
  };
  // allowHalfOpen as http.Server has it: `docker run` without -i half-closes its hijacked
  // connection (over TLS: close_notify) and then reads the output; https.Server would end it.
  // node:https (and with it node:tls) is loaded for a TLS listener only: serve's unix listeners do
  // without its memory (src/cli/serve.ts).
  const server = opts.tls ? loadHttps().createServer({ ...opts.tls, ...httpOptions, allowHalfOpen: true }) : http.createServer(httpOptions);

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (opts.metrics) {
      metrics.requestStarted(listener);
      res.once('close', () => metrics.requestEnded(listener));
    }
    gate.admit(req).then(
      (verdict) => {
        if (verdict.action === 'refuse') {
          refuseRequest(req, res, verdict.status, verdict.message);
          return;
        }
        const fwd = { upstream, log, target: verdict.target, body: verdict.body, onUpstreamAnswer: metrics.upstreamTimer('request') };
        forward(req, res, {
          ...fwd,
          ...(verdict.rewrite ? { rewrite: verdict.rewrite } : {}),
          ...(verdict.streamFilter ? { streamFilter: verdict.streamFilter } : {}),
        });
      },
      (err: unknown) => {
        // The gate failed in a way it did not turn into a verdict: fail closed.
        log.error({ err, method: req.method, url: req.url }, 'admission failed');
        refuseRequest(req, res, 500, `dockgate: request refused: internal error while judging it (${(err as Error).message})`);
      },
    );
  });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    // In flight until judged and relayed; from then on a hijacked stream, counted as such.
    metrics.requestStarted(listener);
    void handleUpgrade(req, socket, head).finally(() => metrics.requestEnded(listener));
  });

  async function handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    if (req.headers['transfer-encoding'] !== undefined) {
      writeDockerErrorToSocket(socket, 400, 'dockgate: a chunked body is not accepted on an upgrade request');
      return;
    }
    const length = Number(req.headers['content-length'] ?? '0');
    if (!Number.isSafeInteger(length) || length < 0) {
      writeDockerErrorToSocket(socket, 400, 'dockgate: invalid Content-Length');
      return;
    }
    if (length > gate.maxUpgradeBody) {
      writeDockerErrorToSocket(socket, 413, `dockgate: upgrade request body over ${gate.maxUpgradeBody} bytes`);
      return;
    }
    let body: Buffer;
    let early: Buffer;
    try {
      ({ body, early } = await readUpgradeBody(socket, head, length, bodyDeadlineMs));
    } catch (err) {
      const e = err as BodyReadError;
      writeDockerErrorToSocket(socket, e.status ?? 400, `dockgate: ${e.message}`);
      return;
    }
    let verdict;
    try {
      verdict = await gate.admitUpgrade(req, body);
    } catch (err) {
      log.error({ err, method: req.method, url: req.url }, 'admission failed');
      writeDockerErrorToSocket(socket, 500, `dockgate: request refused: internal error while judging it (${(err as Error).message})`);
      return;
    }
    if (verdict.action === 'refuse') {
      writeDockerErrorToSocket(socket, verdict.status, verdict.message);
      return;
    }
    hijacked.add(socket);
    metrics.hijackOpened(listener);
    relayUpgrade(req, socket, {
      upstream,
      log,
      target: verdict.target,
      body: verdict.body ?? body,
      early,
      onClose: () => {
        if (hijacked.delete(socket)) metrics.hijackClosed(listener);
      },
      onUpstreamAnswer: metrics.upstreamTimer('upgrade'),
    });
  }

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Malformed HTTP never reaches the gate or the daemon.
    log.debug({ err: err.message, code: err.code }, 'malformed request refused');
    if (socket.writable && !socket.destroyed) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      writeDockerErrorToSocket(socket, status, `dockgate: malformed request (${err.code ?? err.message})`);
    } else {
      socket.destroy();
    }
  });

  async function shutdown(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    const hijackDone = new Promise<void>((resolve) => {
      if (hijacked.size === 0) return resolve();
      const t = setInterval(() => {
        if (hijacked.size === 0) {
          clearInterval(t);
          resolve();
        }
      }, 50);
      t.unref();
    });
    await Promise.race([Promise.all([closed, hijackDone]), deadline]);
    server.closeAllConnections();
    for (const s of hijacked) s.destroy();
    // The upstream pool is shared by all listeners: its owner closes it once every one has stopped.
  }

  return { server, hijacked, shutdown };
}
