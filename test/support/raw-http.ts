import net from 'node:net';

// Exact bytes over a unix socket, for requests no HTTP client produces (duplicate or conflicting
// framing headers, pipelining, absolute-form targets, odd paths) and a parser of the responses
// that come back, in order. Used by the security tests to attack dockgate the way a hostile
// client would.

export interface RawResponse {
  status: number;
  reason: string;
  /** Header names lower-cased; repeated headers keep every value in order. */
  headers: Record<string, string[]>;
  /** The de-chunked body. */
  body: Buffer;
  header(name: string): string | undefined;
  text(): string;
  json<T = unknown>(): T;
}

export interface RawExchange {
  /** Complete responses, in the order they arrived. */
  responses: RawResponse[];
  /** The peer closed the connection (EOF or error) before we stopped reading. */
  closed: boolean;
  /** No complete answer came within the timeout. */
  timedOut: boolean;
  /** A socket error (EPIPE when the peer stopped reading our body, …), if any. */
  error?: Error;
  /** Bytes after the last complete response (a partial response, or a 101's raw stream). */
  rest: Buffer;
  /** For assertion messages: every byte received, as text. */
  transcript: string;
}

export interface RawSendOptions {
  /** Stop (and close) once this many responses are complete. Default 1. */
  responses?: number;
  timeoutMs?: number;
  /** Pause between the pieces of an array `data`, to split a request across writes. */
  pauseMs?: number;
  /**
   * When the last wanted response says `Connection: close`, keep the connection open up to this
   * long for the peer to close it (`closed` then tells whether it did), instead of closing first.
   */
  awaitCloseMs?: number;
}

function makeResponse(status: number, reason: string, headers: Record<string, string[]>, body: Buffer): RawResponse {
  return {
    status,
    reason,
    headers,
    body,
    header: (name) => headers[name.toLowerCase()]?.join(', '),
    text: () => body.toString('utf8'),
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
  };
}

type Parsed = { response: RawResponse; consumed: number; upgraded: boolean } | 'incomplete';

// One HTTP/1.1 response from the start of `buf`; `eof` says no more bytes will come (a body
// without framing runs to the end). Responses to HEAD are not supported (no test sends HEAD).
function parseResponse(buf: Buffer, eof: boolean): Parsed {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return 'incomplete';
  const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]!);
  if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(lines[0])}`);
  const status = Number(m[1]);
  const headers: Record<string, string[]> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed response header line: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    (headers[name] ??= []).push(line.slice(colon + 1).trim());
  }
  let pos = headEnd + 4;
  const done = (body: Buffer, upgraded = false): Parsed => ({ response: makeResponse(status, m[2] ?? '', headers, body), consumed: pos, upgraded });

  if (status === 101) return done(Buffer.alloc(0), true);
  if ((status >= 100 && status < 200) || status === 204 || status === 304) return done(Buffer.alloc(0));

  const te = headers['transfer-encoding']?.join(',').toLowerCase();
  if (te !== undefined && te.split(',').map((s) => s.trim()).includes('chunked')) {
    const chunks: Buffer[] = [];
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', pos);
      if (lineEnd < 0) return 'incomplete';
      const size = parseInt(buf.subarray(pos, lineEnd).toString('latin1').split(';')[0]!.trim(), 16);
      if (!Number.isFinite(size)) throw new Error('malformed chunk size in response');
      pos = lineEnd + 2;
      if (size === 0) {
        // Trailers (if any) end with an empty line.
        const trailerEnd = buf.indexOf('\r\n', pos);
        if (trailerEnd < 0) return 'incomplete';
        if (trailerEnd === pos) {
          pos += 2;
          return done(Buffer.concat(chunks));
        }
        const end = buf.indexOf('\r\n\r\n', pos);
        if (end < 0) return 'incomplete';
        pos = end + 4;
        return done(Buffer.concat(chunks));
      }
      if (buf.length < pos + size + 2) return 'incomplete';
      chunks.push(buf.subarray(pos, pos + size));
      pos += size + 2;
    }
  }
  const cl = headers['content-length'];
  if (cl !== undefined) {
    const length = Number(cl[0]);
    if (buf.length < pos + length) return 'incomplete';
    const body = buf.subarray(pos, pos + length);
    pos += length;
    return done(Buffer.from(body));
  }
  // No framing: the body runs until the connection closes.
  if (!eof) return 'incomplete';
  const body = buf.subarray(pos);
  pos = buf.length;
  return done(Buffer.from(body));
}

/**
 * Sends `data` (one piece, or pieces written one after another) on a fresh connection to the
 * unix socket and collects the responses. Resolves, never rejects for what the peer does: on
 * close, on a socket error, on timeout or once `responses` answers are complete. Writing stops
 * as soon as an answer arrived while a body was still being sent (a refusal of an oversized
 * body), so the answer is not lost to EPIPE.
 */
export function sendRaw(socketPath: string, data: string | Buffer | (string | Buffer)[], opts: RawSendOptions = {}): Promise<RawExchange> {
  const want = opts.responses ?? 1;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const pieces = (Array.isArray(data) ? data : [data]).map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p));

  return new Promise((resolve) => {
    const socket = net.connect({ path: socketPath, allowHalfOpen: true });
    let received = Buffer.alloc(0);
    let all = Buffer.alloc(0);
    const responses: RawResponse[] = [];
    let closed = false;
    let upgraded = false;
    let error: Error | undefined;
    let finished = false;
    let closeWait: NodeJS.Timeout | undefined;

    const finish = (timedOut: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(closeWait);
      socket.destroy();
      resolve({ responses, closed, timedOut, ...(error ? { error } : {}), rest: received, transcript: all.toString('utf8') });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);

    const parseAvailable = (eof: boolean) => {
      while (!upgraded && received.length > 0) {
        let parsed: Parsed;
        try {
          parsed = parseResponse(received, eof);
        } catch (e) {
          error = e as Error;
          finish(false);
          return;
        }
        if (parsed === 'incomplete') break;
        responses.push(parsed.response);
        received = received.subarray(parsed.consumed);
        upgraded = parsed.upgraded;
      }
      if (responses.length >= want && !closeWait) {
        const last = responses[responses.length - 1]!;
        if (opts.awaitCloseMs && !closed && /\bclose\b/i.test(last.header('connection') ?? '')) {
          closeWait = setTimeout(() => finish(false), opts.awaitCloseMs);
          return;
        }
        finish(false);
      }
    };

    socket.on('data', (chunk: Buffer) => {
      all = Buffer.concat([all, chunk]);
      received = Buffer.concat([received, chunk]);
      parseAvailable(false);
    });
    socket.on('end', () => {
      closed = true;
      parseAvailable(true);
      finish(false);
    });
    socket.on('error', (e) => {
      error = e;
      closed = true;
      // Whatever arrived before the error still counts.
      parseAvailable(true);
      finish(false);
    });

    // Large pieces go out in slices, each after the previous one was flushed and one turn of the
    // event loop (which reads what has arrived), so that an early answer (a 413) stops the upload
    // instead of racing it: a write after the peer closed fails with EPIPE, and Node then drops
    // the answer still unread in the socket.
    const SLICE = 64 * 1024;
    const EARLY_ANSWER_MS = 1_000;
    const waitForBytes = (ms: number) =>
      new Promise<void>((r) => {
        const deadline = Date.now() + ms;
        const check = () => (all.length > 0 || finished || closed || Date.now() > deadline ? r() : setTimeout(check, 5));
        check();
      });
    const writeAll = async () => {
      await new Promise<void>((r, j) => {
        socket.once('connect', r);
        socket.once('error', j);
      }).catch(() => undefined);
      for (let i = 0; i < pieces.length; i++) {
        if (i > 0 && opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
        const piece = pieces[i]!;
        for (let off = 0; off < piece.length; off += SLICE) {
          // After the first slice (the head of a large request) give the peer a moment to answer
          // early, as dockgate does for a declared Content-Length over its limit.
          if (off === SLICE) await waitForBytes(EARLY_ANSWER_MS);
          else if (off > 0) await new Promise((r) => setImmediate(r));
          if (finished || closed || (off > 0 && all.length > 0)) return;
          const ok = await new Promise<boolean>((r) => {
            socket.write(piece.subarray(off, off + SLICE), (err) => r(!err));
          });
          if (!ok) return;
        }
      }
    };
    void writeAll();
  });
}

export type HeaderList = [string, string][];

export interface RequestSpec {
  method: string;
  /** Sent exactly as given (origin-form, absolute-form, anything). */
  target: string;
  /** Sent in this order, exactly. `Host: docker` comes first unless a Host header is given. */
  headers?: HeaderList;
  body?: string | Buffer;
  /**
   * Frame the body: 'length' adds Content-Length (default when there is a body), 'chunked'
   * sends it with Transfer-Encoding: chunked in pieces of `chunkSize`, 'none' adds nothing
   * (for hand-made framing headers in `headers`).
   */
  framing?: 'length' | 'chunked' | 'none';
  chunkSize?: number;
}

/** Chunked transfer coding of `body` in pieces of `size` bytes, with the last-chunk. */
export function chunked(body: Buffer, size: number, extension = ''): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off < body.length; off += size) {
    const piece = body.subarray(off, off + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}${extension}\r\n`, 'latin1'), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** The bytes of one HTTP/1.1 request. */
export function buildRequest(spec: RequestSpec): Buffer {
  const body = spec.body === undefined ? undefined : typeof spec.body === 'string' ? Buffer.from(spec.body, 'utf8') : spec.body;
  const headers: HeaderList = [...(spec.headers ?? [])];
  if (!headers.some(([k]) => k.toLowerCase() === 'host')) headers.unshift(['Host', 'docker']);
  const framing = spec.framing ?? (body === undefined ? 'none' : 'length');
  if (framing === 'length') headers.push(['Content-Length', String(body?.length ?? 0)]);
  if (framing === 'chunked') headers.push(['Transfer-Encoding', 'chunked']);
  const head = Buffer.from(`${spec.method} ${spec.target} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, 'latin1');
  if (body === undefined) return framing === 'chunked' ? Buffer.concat([head, Buffer.from('0\r\n\r\n')]) : head;
  return Buffer.concat([head, framing === 'chunked' ? chunked(body, spec.chunkSize ?? 16) : body]);
}

/** Shorthand: a JSON POST with Content-Type: application/json. */
export function jsonPost(target: string, body: string | Buffer, extra: Partial<RequestSpec> = {}): Buffer {
  return buildRequest({
    method: 'POST',
    target,
    body,
    ...extra,
    headers: extra.headers ?? [['Content-Type', 'application/json']],
  });
}

/** For assertion messages: what was sent and what came back. */
export function describeExchange(sent: string | Buffer | (string | Buffer)[], x: RawExchange): string {
  const bytes = Buffer.concat((Array.isArray(sent) ? sent : [sent]).map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
  const shown = bytes.length > 2000 ? `${bytes.subarray(0, 1500).toString('latin1')}… (${bytes.length} bytes)` : bytes.toString('latin1');
  return (
    `--- sent:\n${shown}\n--- received (${x.responses.length} responses, closed=${x.closed}, timedOut=${x.timedOut}` +
    `${x.error ? `, error=${x.error.message}` : ''}):\n${x.transcript.slice(0, 3000)}`
  );
}
