import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transform, Writable } from 'node:stream';
import type { Logger } from '../log/logger.js';
import type { Upstream } from '../upstream/client.js';
import type { ExchangeHandler, UpstreamExchange } from '../upstream/exchange.js';
import type { ResponseHead } from '../upstream/response-parser.js';
import { sendDockerError } from './docker-error.js';
import { CONTENT_LENGTH, endToEndHeaders, hasBody, rawHeader } from './headers.js';

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

/** Forwards one ordinary (non-hijacked) request and streams the answer back. */
export function forward(req: IncomingMessage, res: ServerResponse, opts: ForwardOptions): void {
  const { upstream, log } = opts;
  const method = req.method ?? 'GET';
  const clientBody = hasBody(req);
  let headers: string[];
  if (opts.body) {
    // The canonical body is JSON whatever the client labelled it (an empty body may come untyped).
    headers = endToEndHeaders(req.rawHeaders, { drop: BODY_HEADERS });
    headers.push('Content-Type', 'application/json', 'Content-Length', String(opts.body.length));
  } else {
    headers = endToEndHeaders(req.rawHeaders);
    // An empty POST must stay "no body" for dockerd (a chunked empty body is not the same:
    // `start` refuses it), so spell the length out.
    if (!clientBody && !NO_BODY_METHODS.has(method) && req.headers['content-length'] === undefined) {
      headers.push('Content-Length', '0');
    }
  }

  let exchange: UpstreamExchange | undefined;
  // A client that goes away aborts the upstream request (and so the daemon's work on it).
  res.on('close', () => {
    if (!res.writableFinished) exchange?.abort();
  });

  const chunkedClient = req.httpVersionMajor === 1 && req.httpVersionMinor === 1;
  let relay: Relay | undefined;
  const handler: ExchangeHandler = {
    onHead(head) {
      opts.onUpstreamAnswer?.();
      relay = relayFor(head, res, opts, exchange!, chunkedClient);
    },
    onBody: (chunk) => relay!.onBody(chunk),
    onComplete() {
      relay!.onComplete();
      // Answered before the client had sent its whole body: the rest is never forwarded, and
      // rather than drain it, the client's connection is closed after the answer.
      if (!req.complete) res.once('finish', () => req.socket.destroySoon());
    },
    onError(err, answered) {
      if (answered) {
        res.destroy();
        return;
      }
      log.warn({ err: err.message, target: opts.target }, 'upstream request failed');
      sendDockerError(res, 502, `dockgate: cannot reach the Docker daemon at ${upstream.address.url}: ${err.message}`);
      req.resume();
    },
  };

  try {
    if (opts.body) {
      req.resume(); // the original bytes were already consumed by the canonicalizer
      exchange = upstream.send(method, opts.target, headers, opts.body, handler);
    } else if (clientBody) {
      // A client that stops sending mid-body aborts the upstream request.
      req.once('error', () => exchange?.abort());
      exchange = upstream.send(method, opts.target, headers, req, handler);
    } else {
      exchange = upstream.send(method, opts.target, headers, null, handler);
    }
  } catch (err) {
    log.error({ err: (err as Error).message, target: opts.target }, 'request not forwarded');
    if (!req.complete) res.shouldKeepAlive = false;
    sendDockerError(res, 400, `dockgate: request refused: ${(err as Error).message}`);
  }
}

/** Where the body of the daemon's answer goes, once its head has been seen. */
interface Relay {
  onBody(chunk: Buffer): void;
  onComplete(): void;
}

/**
 * How the daemon's answer reaches the client, chosen on its head: rewritten whole, filtered, or
 * relayed as it comes (`chunkedClient`: the client speaks HTTP/1.1, so a chunked body can keep the
 * daemon's framing).
 */
function relayFor(head: ResponseHead, res: ServerResponse, opts: ForwardOptions, exchange: UpstreamExchange, chunkedClient: boolean): Relay {
  const { rewrite, streamFilter } = opts;
  if (rewrite && (rawHeader(head.rawHeaders, 'content-type') ?? '').startsWith('application/json')) {
    return bufferAndRewrite(res, head, rewrite, exchange);
  }
  if (streamFilter !== undefined && head.status === 200) return filtered(res, head, streamFilter(), exchange);
  return passThrough(res, head, exchange, chunkedClient);
}

/** The answer's head as the client gets it (`reframed`: the proxy sets the body's length itself). */
function writeHead(res: ServerResponse, head: ResponseHead, reframed: boolean, chunked = false): void {
  res.sendDate = false; // the daemon's own Date header is relayed
  const headers = endToEndHeaders(head.rawHeaders, reframed ? { drop: CONTENT_LENGTH } : undefined);
  const streamed = head.framing === 'chunked' || head.framing === 'close';
  if (head.framing === 'close' && !reframed) {
    // The daemon delimits this body by closing the connection (raw streams of the legacy hijack):
    // do the same rather than re-framing it as chunked, which a raw reader would not expect.
    res.useChunkedEncodingByDefault = false;
    res.shouldKeepAlive = false;
  }
  // `chunked`: the answer keeps the daemon's chunked framing (passThrough), whatever node:http would pick.
  if (chunked) headers.push('Transfer-Encoding', 'chunked');
  res.writeHead(head.status, head.statusMessage, headers);
  // Streams (wait, logs -f, events) must see their headers now: `docker run` waits for /wait's
  // headers before it starts the container.
  if (streamed) res.flushHeaders();
}

/** Body chunks into `sink` with backpressure on the daemon's connection. */
function writeInto(sink: Writable, chunk: Buffer, exchange: UpstreamExchange): void {
  if (!sink.write(chunk)) {
    exchange.pause();
    sink.once('drain', () => exchange.resume());
  }
}

function passThrough(res: ServerResponse, head: ResponseHead, exchange: UpstreamExchange, chunkedClient: boolean): Relay {
  const keepFraming = chunkedClient && head.framing === 'chunked';
  writeHead(res, head, false, keepFraming);
  if (keepFraming) {
    // The daemon's chunks go to the client as they are, framing included (archive and export
    // downloads, logs, events): decoding and encoding them again is most of what a relay costs.
    // node:http has written the head with chunked encoding; its own framing of writes (and its
    // last chunk) is turned off, the daemon's last chunk ends the body.
    exchange.keepChunkFraming();
    res.chunkedEncoding = false;
  }
  return {
    onBody: (chunk) => writeInto(res, chunk, exchange),
    onComplete: () => res.end(),
  };
}

/** A successful stream passed through a filter (e.g. the events of one owner). */
function filtered(res: ServerResponse, head: ResponseHead, filter: Transform, exchange: UpstreamExchange): Relay {
  filter.once('error', () => {
    exchange.abort();
    res.destroy();
  });
  writeHead(res, head, true); // a filtered body has a length of its own
  filter.pipe(res);
  return {
    onBody: (chunk) => writeInto(filter, chunk, exchange),
    onComplete: () => filter.end(),
  };
}

function bufferAndRewrite(res: ServerResponse, head: ResponseHead, rewrite: ResponseRewrite, exchange: UpstreamExchange): Relay {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    onBody(c) {
      size += c.length;
      if (size > REWRITE_LIMIT) {
        exchange.abort();
        res.destroy();
        return;
      }
      chunks.push(c);
    },
    onComplete() {
      const raw = Buffer.concat(chunks);
      let body: Buffer = raw;
      try {
        body = Buffer.from(JSON.stringify(rewrite(head.status, JSON.parse(raw.toString('utf8')))));
      } catch {
        body = raw; // not JSON after all: relay as is
      }
      res.sendDate = false;
      const headers = endToEndHeaders(head.rawHeaders, { drop: CONTENT_LENGTH });
      headers.push('Content-Length', String(body.length));
      res.writeHead(head.status, head.statusMessage, headers);
      res.end(body);
    },
  };
}
