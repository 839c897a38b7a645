import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import type { Upstream } from '../upstream/client.js';
import { writeDockerErrorToSocket } from './docker-error.js';
import { CONTENT_LENGTH, endToEndHeaders } from './headers.js';

export interface HijackOptions {
  upstream: Upstream;
  log: Logger;
  target: string;
  /** The request body as judged (exec start carries `{"Detach":false,"Tty":…}` before the hijack). */
  body: Buffer;
  /** Client bytes that arrived after the body, held until the daemon switched protocols. */
  early: Buffer;
  /** Called once when the hijacked stream (or the refused attempt) is over. */
  onClose?: () => void;
  /** Called when the daemon answers the upgrade request (101 or not): upstream latency. */
  onUpstreamAnswer?: () => void;
}

function responseHead(res: IncomingMessage, headers: readonly string[]): string {
  let head = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return head + '\r\n';
}

/**
 * Joins two sockets byte for byte. Each side's end (half-close) is passed on as end(), never as
 * destroy: `docker exec` without -i half-closes at once and then reads all the output.
 */
export function splice(client: Socket, upstream: Socket, onClose: () => void): void {
  let closed = false;
  const closeBoth = () => {
    if (closed) return;
    closed = true;
    client.destroy();
    upstream.destroy();
    onClose();
  };
  client.pipe(upstream);
  upstream.pipe(client);
  // The daemon ended its output and stopped reading stdin (the process exited): stdin that backs
  // up behind it — at that moment, or later, once the socket buffers between are full — can never
  // be delivered. Drain the client instead of leaving it paused, so that its own end or close is
  // seen and the pair is released rather than leaked (a paused socket never sees its peer go).
  upstream.once('end', () => {
    const drainClient = () => {
      client.off('pause', onBackpressure);
      client.unpipe(upstream);
      client.on('data', () => undefined);
      client.once('end', closeBoth);
      client.resume();
    };
    const onBackpressure = () => {
      if (upstream.writableNeedDrain) drainClient();
    };
    if (upstream.writableNeedDrain) drainClient();
    else client.on('pause', onBackpressure); // pipe() pauses the client when upstream is full
  });
  client.on('error', closeBoth);
  upstream.on('error', closeBoth);
  // A full close on either side (after both directions ended, or a reset) ends the pair.
  client.on('close', closeBoth);
  upstream.on('close', closeBoth);
}

/**
 * Sends an upgrade request (attach, exec start, attach/ws, BuildKit session) to the daemon on its
 * own connection. On 101 the client gets the daemon's answer verbatim and the sockets are spliced;
 * any other answer is relayed as a normal response and the connection closed.
 */
export function relayUpgrade(req: IncomingMessage, client: Socket, opts: HijackOptions): void {
  const { upstream, log } = opts;
  const done = opts.onClose ?? (() => undefined);
  const headers = endToEndHeaders(req.rawHeaders, { drop: CONTENT_LENGTH, keepUpgrade: true });
  headers.push('Content-Length', String(opts.body.length));
  const upReq = upstream.upgradeRequest(req.method ?? 'POST', opts.target, headers);

  const onClientGone = () => upReq.destroy();
  client.once('close', onClientGone);

  upReq.once('error', (err) => {
    client.off('close', onClientGone);
    log.warn({ err: err.message, target: opts.target }, 'upstream upgrade request failed');
    writeDockerErrorToSocket(client, 502, `dockgate: cannot reach the Docker daemon at ${upstream.address.url}: ${err.message}`);
    done();
  });

  upReq.once('upgrade', (upRes: IncomingMessage, upSocket: Socket, upHead: Buffer) => {
    opts.onUpstreamAnswer?.();
    client.off('close', onClientGone);
    client.write(responseHead(upRes, upRes.rawHeaders));
    if (upHead.length > 0) client.write(upHead);
    if (opts.early.length > 0) upSocket.write(opts.early);
    splice(client, upSocket, done);
    client.resume();
  });

  upReq.once('response', (upRes: IncomingMessage) => {
    // Not upgraded (an error such as "container not running", or a legacy raw stream): relay the
    // answer delimited by close, since this connection cannot be reused after an upgrade attempt.
    opts.onUpstreamAnswer?.();
    client.off('close', onClientGone);
    const headers = endToEndHeaders(upRes.rawHeaders, { drop: CONTENT_LENGTH });
    headers.push('Connection', 'close');
    client.write(responseHead(upRes, headers));
    upRes.pipe(client);
    upRes.once('error', () => client.destroy());
    client.once('close', () => {
      upRes.destroy();
      done();
    });
  });

  upReq.end(opts.body);
}
