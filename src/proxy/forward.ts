import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import type { Logger } from '../log/logger.js';
import type { Upstream } from '../upstream/client.js';
import { sendDockerError } from './docker-error.js';
import { CONTENT_LENGTH, endToEndHeaders } from './headers.js';

const BODY_HEADERS = new Set(['content-length', 'content-type']);
const NO_BODY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Rewrites a small buffered JSON response (e.g. to append create Warnings). */
export type ResponseRewrite = (status: number, body: unknown) => unknown;

export interface ForwardOptions {
  upstream: Upstream;
  log: Logger;
  /** Origin-form target sent upstream (path and query as classified). */
  target: string;
  /** A replacement body (the canonical object as judged); null streams the client's body. */
  body: Buffer | null;
  /**
   * Applied to a JSON response of at most REWRITE_LIMIT bytes; a larger one is cut rather than
   * relayed unrewritten (the rewrite may be a filter). Other content types stream untouched.
   */
  rewrite?: ResponseRewrite;
  /** Passes a successful streamed response through this (e.g. the events of one owner). */
  streamFilter?: () => Transform;
  /** Called when the daemon's response headers arrive (upstream latency). */
  onUpstreamAnswer?: () => void;
}

const REWRITE_LIMIT = 1024 * 1024;

function requestHasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

/** Forwards one ordinary (non-hijacked) request and streams the answer back. */
export function forward(req: IncomingMessage, res: ServerResponse, opts: ForwardOptions): void {
  const { upstream, log } = opts;
  const method = req.method ?? 'GET';
  let headers: string[];
  if (opts.body) {
    // The canonical body is JSON whatever the client labelled it (an empty body may come untyped).
    headers = endToEndHeaders(req.rawHeaders, { drop: BODY_HEADERS });
    headers.push('Content-Type', 'application/json', 'Content-Length', String(opts.body.length));
  } else {
    headers = endToEndHeaders(req.rawHeaders);
    // An empty POST must stay "no body" for dockerd (a chunked empty body is not the same:
    // `start` refuses it), so spell the length out.
    if (!requestHasBody(req) && !NO_BODY_METHODS.has(method) && req.headers['content-length'] === undefined) {
      headers.push('Content-Length', '0');
    }
  }

  const upReq = upstream.request(method, opts.target, headers);
  let responded = false;

  upReq.on('error', (err) => {
    if (responded) {
      res.destroy();
      return;
    }
    log.warn({ err: err.message, target: opts.target }, 'upstream request failed');
    sendDockerError(res, 502, `dockgate: cannot reach the Docker daemon at ${upstream.address.url}: ${err.message}`);
    req.resume();
  });

  upReq.on('response', (upRes) => {
    responded = true;
    opts.onUpstreamAnswer?.();
    relayResponse(method, upRes, res, opts.rewrite, opts.streamFilter);
  });

  // A client that goes away aborts the upstream request (and so the daemon's work on it).
  res.on('close', () => {
    if (!res.writableFinished) upReq.destroy();
  });

  if (opts.body) {
    upReq.end(opts.body);
    req.resume(); // the original bytes were already consumed by the canonicalizer
  } else if (requestHasBody(req)) {
    // pipe() rather than pipeline(), as for responses (see relayResponse): a client that stops
    // sending mid-body aborts the upstream request; an upstream failure is handled above.
    req.once('error', () => upReq.destroy());
    req.pipe(upReq);
  } else {
    upReq.end();
  }
}

// RFC 9112 §6.3: these answers have no body whatever their headers say, so they are never
// delimited by the connection's close.
function hasNoBody(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
}

function relayResponse(method: string, upRes: IncomingMessage, res: ServerResponse, rewrite: ResponseRewrite | undefined, streamFilter?: () => Transform): void {
  const status = upRes.statusCode ?? 502;
  const cl = upRes.headers['content-length'];
  const isJson = (upRes.headers['content-type'] ?? '').startsWith('application/json');
  if (rewrite && isJson) {
    bufferAndRewrite(upRes, res, rewrite);
    return;
  }

  res.sendDate = false; // the daemon's own Date header is relayed
  const filtered = streamFilter !== undefined && status === 200;
  // A filtered body has a length of its own.
  const headers = endToEndHeaders(upRes.rawHeaders, filtered ? { drop: CONTENT_LENGTH } : undefined);
  const streamed = cl === undefined && !hasNoBody(method, status);
  if (streamed && upRes.headers['transfer-encoding'] === undefined) {
    // The daemon delimits this body by closing the connection (raw streams of the legacy hijack):
    // do the same rather than re-framing it as chunked, which a raw reader would not expect.
    res.useChunkedEncodingByDefault = false;
    res.shouldKeepAlive = false;
  }
  res.writeHead(status, upRes.statusMessage, headers);
  // Streams (wait, logs -f, events) must see their headers now: `docker run` waits for /wait's
  // headers before it starts the container.
  if (streamed) res.flushHeaders();
  // pipe() rather than pipeline(): pipeline builds an error with a stack trace on every
  // completed response, a measurable cost on the hot path. Failures are handled here instead:
  // an upstream cut mid-body cuts the client's response too (as the daemon's would be), and a
  // client that goes away destroys the upstream request (the 'close' handler in forward()).
  upRes.once('error', () => res.destroy());
  if (filtered) {
    const filter = streamFilter();
    filter.once('error', () => {
      upRes.destroy();
      res.destroy();
    });
    upRes.pipe(filter).pipe(res);
    return;
  }
  upRes.pipe(res);
}

function bufferAndRewrite(upRes: IncomingMessage, res: ServerResponse, rewrite: ResponseRewrite): void {
  const chunks: Buffer[] = [];
  let size = 0;
  upRes.on('data', (c: Buffer) => {
    size += c.length;
    if (size > REWRITE_LIMIT) {
      upRes.destroy();
      res.destroy();
      return;
    }
    chunks.push(c);
  });
  upRes.on('error', () => res.destroy());
  upRes.on('end', () => {
    const raw = Buffer.concat(chunks);
    let body: Buffer = raw;
    try {
      body = Buffer.from(JSON.stringify(rewrite(upRes.statusCode ?? 0, JSON.parse(raw.toString('utf8')))));
    } catch {
      body = raw; // not JSON after all: relay as is
    }
    res.sendDate = false;
    const headers = endToEndHeaders(upRes.rawHeaders, { drop: CONTENT_LENGTH });
    headers.push('Content-Length', String(body.length));
    res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, headers);
    res.end(body);
  });
}
