// An HTTP/1.1 response parser for the daemon's answers, fed the bytes of one connection as they
// arrive. dockgate forwards every request on its own keep-alive connections to dockerd; parsing
// the answers here instead of through node:http's client (ClientRequest, Agent, IncomingMessage)
// takes about a fifth off a proxied /_ping (bench/FINDINGS.md, "Passthrough").
//
// Strict where a lenient reading could split one answer into two (framing): a bad status line,
// header line, length or chunk size is an error, never guessed at. The daemon is Go's net/http,
// which writes exactly what RFC 9112 describes.

/** How the answer's body is delimited (RFC 9112 §6.3). */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

export interface ResponseHead {
  status: number;
  statusMessage: string;
  /** Header names and values as received, alternating (hop-by-hop headers included). */
  rawHeaders: string[];
  framing: BodyFraming;
  /** The body's length when framing is 'length'. */
  contentLength: number;
  /** The answer lets the connection carry another request once it is complete. */
  keepAlive: boolean;
}

export interface ResponseEvents {
  onHead(head: ResponseHead): void;
  onBody(chunk: Buffer): void;
}

export class ResponseParseError extends Error {}

const CRLF = 0x0a0d; // "\r\n" read as a little-endian uint16
const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: (.*))?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CHUNK_SIZE = /^[0-9A-Fa-f]{1,13}$/; // 13 hex digits stay below 2^53

type State = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'close' | 'done';

export class ResponseParser {
  private state: State = 'head';
  /** Bytes of an unfinished head, chunk-size line or trailer section. */
  private pending: Buffer | null = null;
  private remaining = 0;
  private head: ResponseHead | null = null;
  /**
   * A chunked body is handed on with its chunk framing (size lines, CRLFs, last chunk, trailers):
   * for a relay that sends the same framing on, so that nothing is decoded and encoded again.
   * Set it from onHead; the parser still follows the chunks to find the end of the answer.
   */
  keepChunkFraming = false;

  /**
   * `method`: the request's (a HEAD answer has no body). `maxHeaderBytes`: the largest head (and
   * trailer section) accepted.
   */
  constructor(
    private readonly method: string,
    private readonly maxHeaderBytes: number,
    private readonly events: ResponseEvents,
  ) {}

  /** The whole answer has been read. */
  get complete(): boolean {
    return this.state === 'done';
  }

  /** The head has been read (the body may still be coming). */
  get answered(): boolean {
    return this.head !== null;
  }

  /**
   * Parses the next bytes of the connection, up to the end of the answer; returns how many bytes
   * were used (fewer than given only when the answer completed before the end of `data`). Throws
   * ResponseParseError on bytes that are not a well-formed answer.
   */
  execute(data: Buffer): number {
    let at = 0;
    let framedFrom = -1; // where this call's chunked bytes began (keepChunkFraming)
    while (at < data.length && this.state !== 'done') {
      if (framedFrom < 0 && this.keepChunkFraming && this.head?.framing === 'chunked') framedFrom = at;
      switch (this.state) {
        case 'head':
          at = this.readHead(data, at);
          break;
        case 'length':
          at = this.counted(data, at, true);
          if (this.remaining === 0) this.finish();
          break;
        case 'close':
          this.emitBody(data, at, data.length - at);
          at = data.length;
          break;
        case 'chunk-size':
          at = this.readChunkSize(data, at);
          break;
        case 'chunk-data':
          at = this.counted(data, at, framedFrom < 0);
          if (this.remaining === 0) this.state = 'chunk-end';
          break;
        case 'chunk-end':
          at = this.readChunkEnd(data, at);
          break;
        case 'trailers':
          at = this.readTrailers(data, at);
          break;
      }
    }
    if (framedFrom >= 0) this.emitBody(data, framedFrom, at - framedFrom);
    return at;
  }

  /** The connection ended: completes a body delimited by the close, else throws. */
  end(): void {
    if (this.state === 'close') {
      this.state = 'done';
      return;
    }
    if (this.state === 'done') return;
    throw new ResponseParseError(this.head ? 'the daemon closed the connection in the middle of the answer' : 'the daemon closed the connection without answering');
  }

  private finish(): void {
    this.state = 'done';
  }

  /** Up to `remaining` bytes of `data` from `at`, counted off (and handed on when `emit`); returns the index after them. */
  private counted(data: Buffer, at: number, emit: boolean): number {
    const n = Math.min(this.remaining, data.length - at);
    this.remaining -= n;
    if (emit) this.emitBody(data, at, n);
    return at + n;
  }

  private emitBody(data: Buffer, at: number, n: number): void {
    if (n > 0) this.events.onBody(at === 0 && n === data.length ? data : data.subarray(at, at + n));
  }

  /** Collects bytes up to `terminator`; returns the index after it in `data`, or -1 (all kept). */
  private collect(data: Buffer, at: number, terminator: Buffer, limit: number, what: string): { text: string; next: number } | null {
    let buf: Buffer;
    let searchFrom: number;
    if (this.pending) {
      searchFrom = Math.max(0, this.pending.length - terminator.length + 1);
      buf = Buffer.concat([this.pending, data.subarray(at)]);
    } else {
      searchFrom = 0;
      buf = at === 0 ? data : data.subarray(at);
    }
    const end = buf.indexOf(terminator, searchFrom);
    if (end < 0) {
      // (the last bytes may be the start of the terminator)
      if (buf.length - (terminator.length - 1) > limit) throw new ResponseParseError(`the daemon's ${what} is over ${limit} bytes`);
      this.pending = Buffer.from(buf); // a copy: `data` belongs to the socket
      return null;
    }
    if (end > limit) throw new ResponseParseError(`the daemon's ${what} is over ${limit} bytes`);
    const consumedFromData = end + terminator.length - (this.pending ? this.pending.length : 0);
    this.pending = null;
    return { text: buf.toString('latin1', 0, end), next: at + consumedFromData };
  }

  private readHead(data: Buffer, at: number): number {
    const got = this.collect(data, at, HEAD_END, this.maxHeaderBytes, 'answer head');
    if (!got) return data.length;
    const head = parseHead(got.text, this.method);
    if (head.status < 200) {
      // 100 Continue and other interim answers precede the real one (101 is never asked for here:
      // upgrades go through their own connection).
      if (head.status === 101) throw new ResponseParseError('the daemon switched protocols on a request that did not ask to');
      return got.next;
    }
    this.head = head;
    this.events.onHead(head);
    switch (head.framing) {
      case 'none':
        this.finish();
        break;
      case 'length':
        this.remaining = head.contentLength;
        if (this.remaining === 0) this.finish();
        else this.state = 'length';
        break;
      case 'chunked':
        this.state = 'chunk-size';
        break;
      case 'close':
        this.state = 'close';
        break;
    }
    return got.next;
  }

  private readChunkSize(data: Buffer, at: number): number {
    const got = this.collect(data, at, HEAD_END.subarray(0, 2), 1024, 'chunk-size line');
    if (!got) return data.length;
    const semi = got.text.indexOf(';');
    const size = (semi < 0 ? got.text : got.text.slice(0, semi)).trimEnd();
    if (!CHUNK_SIZE.test(size)) throw new ResponseParseError(`the daemon sent an invalid chunk size ${JSON.stringify(got.text.slice(0, 40))}`);
    this.remaining = parseInt(size, 16);
    this.state = this.remaining === 0 ? 'trailers' : 'chunk-data';
    return got.next;
  }

  private readChunkEnd(data: Buffer, at: number): number {
    // The CRLF after a chunk's data, possibly split across reads.
    if (this.pending) {
      const pair = this.pending[0]! | (data[at]! << 8);
      this.pending = null;
      if (pair !== CRLF) throw new ResponseParseError('the daemon sent a chunk without its closing CRLF');
      this.state = 'chunk-size';
      return at + 1;
    }
    if (at + 1 >= data.length) {
      this.pending = Buffer.from([data[at]!]);
      return data.length;
    }
    if (data.readUInt16LE(at) !== CRLF) throw new ResponseParseError('the daemon sent a chunk without its closing CRLF');
    this.state = 'chunk-size';
    return at + 2;
  }

  private readTrailers(data: Buffer, at: number): number {
    // Trailer fields end with an empty line; none at all is just that line. They are dropped
    // (nothing in the Engine API sends any).
    if (!this.pending && data.length - at >= 2 && data.readUInt16LE(at) === CRLF) {
      this.finish();
      return at + 2;
    }
    const prefix = this.pending ? this.pending : Buffer.alloc(0);
    this.pending = null;
    const buf = Buffer.concat([Buffer.from('\r\n'), prefix, data.subarray(at)]);
    const end = buf.indexOf(HEAD_END);
    // The section's own bytes: without the CRLF put in front, and without a terminator's start.
    if (end < 0) {
      if (buf.length - 2 - (HEAD_END.length - 1) > this.maxHeaderBytes) throw new ResponseParseError(`the daemon's trailer section is over ${this.maxHeaderBytes} bytes`);
      this.pending = Buffer.from(buf.subarray(2));
      return data.length;
    }
    if (end - 2 > this.maxHeaderBytes) throw new ResponseParseError(`the daemon's trailer section is over ${this.maxHeaderBytes} bytes`);
    this.finish();
    return at + (end + 4 - 2 - prefix.length);
  }
}

function parseHead(text: string, method: string): ResponseHead {
  const lines = text.split('\r\n');
  const m = STATUS_LINE.exec(lines[0]!);
  if (!m) throw new ResponseParseError(`the daemon sent an invalid status line ${JSON.stringify(lines[0]!.slice(0, 80))}`);
  const status = Number(m[2]);
  const rawHeaders: string[] = [];
  let contentLength: string | undefined;
  let transferEncoding: string | undefined;
  let connection = '';
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw new ResponseParseError(`the daemon sent an invalid header line ${JSON.stringify(line.slice(0, 80))}`);
    const value = line.slice(colon + 1).trim();
    if (value.includes('\r') || value.includes('\n') || value.includes('\0')) throw new ResponseParseError(`the daemon sent an invalid value for header ${name}`);
    rawHeaders.push(name, value);
    switch (name.length) {
      case 10:
        if (name.toLowerCase() === 'connection') connection += `${value.toLowerCase()},`;
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          if (contentLength !== undefined && contentLength !== value) throw new ResponseParseError('the daemon sent conflicting Content-Length headers');
          contentLength = value;
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
        break;
    }
  }
  let keepAlive = m[1] === '1' ? !/(?:^|[\s,])close\s*,/.test(connection) : /(?:^|[\s,])keep-alive\s*,/.test(connection);
  let framing: BodyFraming;
  let length = 0;
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) {
    framing = 'none';
  } else if (transferEncoding !== undefined) {
    const codings = transferEncoding.toLowerCase().split(',').map((c) => c.trim());
    framing = codings[codings.length - 1] === 'chunked' ? 'chunked' : 'close';
    // A length next to a transfer coding is ignored, and the connection not trusted after it.
    if (contentLength !== undefined || framing === 'close') keepAlive = false;
  } else if (contentLength !== undefined) {
    if (!/^\d{1,15}$/.test(contentLength)) throw new ResponseParseError(`the daemon sent an invalid Content-Length ${JSON.stringify(contentLength.slice(0, 40))}`);
    framing = 'length';
    length = Number(contentLength);
  } else {
    framing = 'close';
    keepAlive = false;
  }
  return { status, statusMessage: m[3] ?? '', rawHeaders, framing, contentLength: length, keepAlive };
}
