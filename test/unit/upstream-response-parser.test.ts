import { describe, expect, test } from 'vitest';
import { ResponseParseError, ResponseParser, type ResponseHead } from '../../src/upstream/response-parser.js';

// The daemon's answers as dockgate's own HTTP/1.1 client reads them (src/upstream/response-parser.ts):
// framing (none, length, chunked, close), interim answers, keep-alive, the errors that must never be
// guessed at, and — the property that matters most for a parser fed a socket — that where the bytes
// are split never changes what is read.

const MAX = 64 * 1024;

interface Parsed {
  heads: ResponseHead[];
  body: Buffer;
  /** The byte counts execute() returned, one per chunk fed. */
  used: number[];
  /** Bytes used in all. */
  consumed: number;
  complete: boolean;
  answered: boolean;
  parser: ResponseParser;
}

/** Feeds `chunks` in order (stopping once the answer is complete), then end() when `end` is set. */
function parse(chunks: (string | Buffer)[], opts: { method?: string; max?: number; end?: boolean } = {}): Parsed {
  const heads: ResponseHead[] = [];
  const body: Buffer[] = [];
  const parser = new ResponseParser(opts.method ?? 'GET', opts.max ?? MAX, {
    onHead: (h) => heads.push(h),
    // A copy: the parser may hand on a view of the buffer it was given.
    onBody: (c) => {
      expect(c.length).toBeGreaterThan(0);
      body.push(Buffer.from(c));
    },
  });
  const used: number[] = [];
  for (const chunk of chunks) {
    if (parser.complete) break;
    used.push(parser.execute(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk));
  }
  if (opts.end) parser.end();
  return {
    heads,
    body: Buffer.concat(body),
    used,
    consumed: used.reduce((a, b) => a + b, 0),
    complete: parser.complete,
    answered: parser.answered,
    parser,
  };
}

const one = (raw: string, opts?: { method?: string; max?: number; end?: boolean }) => parse([raw], opts);

function headOf(raw: string, method = 'GET'): ResponseHead {
  const p = one(raw, { method });
  expect(p.heads).toHaveLength(1);
  return p.heads[0]!;
}

function parseError(chunks: (string | Buffer)[], opts?: { method?: string; max?: number; end?: boolean }): ResponseParseError {
  try {
    parse(chunks, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ResponseParseError);
    return err as ResponseParseError;
  }
  throw new Error('expected a ResponseParseError');
}

describe('ResponseParser: framing', () => {
  test('a Content-Length body', () => {
    const raw = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"a":"hello"}';
    const p = one(raw);
    expect(p.heads).toEqual([
      {
        status: 200,
        statusMessage: 'OK',
        rawHeaders: ['Content-Type', 'application/json', 'Content-Length', '13'],
        framing: 'length',
        contentLength: 13,
        keepAlive: true,
      },
    ]);
    expect(p.body.toString()).toBe('{"a":"hello"}');
    expect(p.complete).toBe(true);
    expect(p.consumed).toBe(raw.length);
  });

  test('Content-Length: 0 completes with the head, and a body holding CRLFs is read by its length only', () => {
    const empty = one('HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n');
    expect(empty.heads[0]).toMatchObject({ status: 201, statusMessage: 'Created', framing: 'length', contentLength: 0 });
    expect(empty.complete).toBe(true);
    expect(empty.body.length).toBe(0);

    const tricky = 'x\r\n\r\nHTTP/1.1 200 OK\r\n\r\n';
    const p = one(`HTTP/1.1 200 OK\r\nContent-Length: ${tricky.length}\r\n\r\n${tricky}`);
    expect(p.body.toString('latin1')).toBe(tricky);
    expect(p.complete).toBe(true);
  });

  test('a status line without a reason phrase, and with an empty one', () => {
    expect(headOf('HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n')).toMatchObject({ status: 200, statusMessage: '' });
    expect(headOf('HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n')).toMatchObject({ status: 404, statusMessage: '' });
    expect(headOf('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n')).toMatchObject({
      status: 500,
      statusMessage: 'Internal Server Error',
    });
  });

  test('header names and values are kept as received (values trimmed), repeated ones included', () => {
    const h = headOf('HTTP/1.1 200 OK\r\nX-A:  one  \r\nx-a:two\r\nApi-Version: 1.47\r\nContent-Length: 0\r\n\r\n');
    expect(h.rawHeaders).toEqual(['X-A', 'one', 'x-a', 'two', 'Api-Version', '1.47', 'Content-Length', '0']);
  });

  test('a chunked body', () => {
    const raw = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\n\r\n';
    const p = one(raw);
    expect(p.heads[0]).toMatchObject({ framing: 'chunked', keepAlive: true, contentLength: 0 });
    expect(p.body.toString()).toBe('hello 0123456789');
    expect(p.complete).toBe(true);
    expect(p.consumed).toBe(raw.length);
  });

  test('chunk sizes in either case, with chunk extensions (ignored)', () => {
    const raw =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;name=value\r\nhello\r\n' +
      'c ; a="x;y" ;b\r\n hello world\r\n' +
      'C\r\n\r\n0\r\n\r\nabcde\r\n' +
      '0;last=yes\r\n\r\n';
    const p = one(raw);
    expect(p.body.toString('latin1')).toBe('hello hello world\r\n0\r\n\r\nabcde');
    expect(p.complete).toBe(true);
    expect(p.consumed).toBe(raw.length);
  });

  test('trailers after the last chunk are read and dropped', () => {
    const raw = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 42\r\nX-Other: a b c\r\n\r\n';
    const p = one(raw);
    expect(p.body.toString()).toBe('abc');
    expect(p.complete).toBe(true);
    expect(p.consumed).toBe(raw.length);
    expect(p.heads[0]!.rawHeaders).toEqual(['Transfer-Encoding', 'chunked', 'Trailer', 'X-Sum']);
  });

  test('a chunked body with no chunk before the last one (empty body, empty trailers)', () => {
    const raw = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
    const p = one(raw);
    expect(p.body.length).toBe(0);
    expect(p.complete).toBe(true);
    expect(p.consumed).toBe(raw.length);
  });

  test('Transfer-Encoding values are combined across headers and compared without case', () => {
    const h = headOf('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: CHUNKED\r\n\r\n');
    expect(h).toMatchObject({ framing: 'chunked', keepAlive: true });
  });

  test('close-delimited: no Content-Length, no Transfer-Encoding; end() completes it', () => {
    const p = one('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\nraw bytes\r\n\r\n0\r\n\r\n');
    expect(p.heads[0]).toMatchObject({ framing: 'close', keepAlive: false });
    expect(p.body.toString()).toBe('raw bytes\r\n\r\n0\r\n\r\n');
    expect(p.complete).toBe(false);
    const more = p.parser.execute(Buffer.from('more'));
    expect(more).toBe(4);
    p.parser.end();
    expect(p.parser.complete).toBe(true);
    // end() again is harmless.
    p.parser.end();
  });

  test('close-delimited with no body at all', () => {
    const p = one('HTTP/1.0 200 OK\r\n\r\n', { end: true });
    expect(p.complete).toBe(true);
    expect(p.body.length).toBe(0);
  });
});

describe('ResponseParser: answers without a body', () => {
  test('an answer to HEAD has no body whatever its headers say, and keeps the connection', () => {
    const raw = 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n';
    const p = one(raw + 'HTTP/1.1 200 OK\r\n', { method: 'HEAD' });
    expect(p.heads[0]).toMatchObject({ framing: 'none', contentLength: 0, keepAlive: true });
    expect(p.complete).toBe(true);
    expect(p.body.length).toBe(0);
    expect(p.consumed).toBe(raw.length);

    const chunked = one('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', { method: 'HEAD' });
    expect(chunked.heads[0]).toMatchObject({ framing: 'none', keepAlive: true });
    expect(chunked.complete).toBe(true);

    const neither = one('HTTP/1.1 200 OK\r\n\r\n', { method: 'HEAD' });
    expect(neither.heads[0]).toMatchObject({ framing: 'none', keepAlive: true });
    expect(neither.complete).toBe(true);
  });

  test.each([
    ['204', 'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n'],
    ['204 chunked', 'HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['204 with neither', 'HTTP/1.1 204 No Content\r\n\r\n'],
    ['304', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n'],
    ['304 chunked', 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n'],
  ])('%s has no body whatever its headers say', (_name, raw) => {
    const p = one(raw + '0123456789');
    expect(p.heads[0]).toMatchObject({ framing: 'none', keepAlive: true });
    expect(p.complete).toBe(true);
    expect(p.body.length).toBe(0);
    expect(p.consumed).toBe(raw.length);
  });

  test('an invalid Content-Length on an answer without a body is not looked at', () => {
    expect(one('HTTP/1.1 204 No Content\r\nContent-Length: nope\r\n\r\n').complete).toBe(true);
    expect(one('HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n', { method: 'HEAD' }).complete).toBe(true);
  });
});

describe('ResponseParser: interim answers', () => {
  test('100 Continue before the real answer is skipped', () => {
    const raw = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
    const p = one(raw);
    expect(p.heads).toHaveLength(1);
    expect(p.heads[0]).toMatchObject({ status: 200, framing: 'length' });
    expect(p.body.toString()).toBe('ok');
    expect(p.consumed).toBe(raw.length);
  });

  test('several interim answers, with headers, in separate reads', () => {
    const p = parse([
      'HTTP/1.1 100 Continue\r\n\r\n',
      'HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n',
      'HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    ]);
    expect(p.heads.map((h) => h.status)).toEqual([200]);
    expect(p.body.toString()).toBe('ok');
  });

  test('an interim answer alone is not an answer', () => {
    const p = one('HTTP/1.1 100 Continue\r\n\r\n');
    expect(p.answered).toBe(false);
    expect(p.complete).toBe(false);
    expect(() => p.parser.end()).toThrow(/without answering/);
  });

  test('101 Switching Protocols throws', () => {
    const err = parseError(['HTTP/1.1 101 Switching Protocols\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n']);
    expect(err.message).toMatch(/switched protocols/);
  });
});

describe('ResponseParser: keep-alive', () => {
  test.each([
    ['HTTP/1.1 by default', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', true],
    ['HTTP/1.1 Connection: close', 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.1 Connection: Close (case)', 'HTTP/1.1 200 OK\r\nconnection: Close\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.1 close among other tokens', 'HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.1 close in a second header', 'HTTP/1.1 200 OK\r\nConnection: x-foo\r\nConnection:close\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.1 a token that merely contains close', 'HTTP/1.1 200 OK\r\nConnection: x-close-later\r\nContent-Length: 0\r\n\r\n', true],
    ['HTTP/1.1 Connection: keep-alive', 'HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n', true],
    ['HTTP/1.0 without keep-alive', 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.0 with Connection: keep-alive', 'HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n', true],
    ['HTTP/1.0 keep-alive but close-delimited', 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n', false],
    ['Transfer-Encoding and Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', false],
    ['Transfer-Encoding not ending in chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', false],
    ['close-delimited', 'HTTP/1.1 200 OK\r\n\r\n', false],
    ['204 with Connection: close', 'HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n', false],
  ])('%s', (_name, raw, keepAlive) => {
    expect(headOf(raw).keepAlive).toBe(keepAlive);
  });

  test('Transfer-Encoding next to Content-Length: the length is ignored, the body read chunked', () => {
    const raw = 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n';
    const p = one(raw);
    expect(p.heads[0]).toMatchObject({ framing: 'chunked', keepAlive: false });
    expect(p.body.toString()).toBe('hi');
    expect(p.complete).toBe(true);
    expect(p.consumed).toBe(raw.length);
  });

  test('Transfer-Encoding not ending in chunked: the body runs to the close', () => {
    const p = one('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 3\r\n\r\n2\r\nhi\r\n0\r\n\r\n');
    expect(p.heads[0]).toMatchObject({ framing: 'close', keepAlive: false });
    expect(p.body.toString()).toBe('2\r\nhi\r\n0\r\n\r\n');
    expect(p.complete).toBe(false);
    p.parser.end();
    expect(p.parser.complete).toBe(true);
  });
});

describe('ResponseParser: errors', () => {
  test.each([
    'HTTP/1.1 20 OK',
    'HTTP/1.1 2000 OK',
    'HTTP/1.1 099 Low',
    'HTTP/1.1 200OK',
    'HTTP/1.2 200 OK',
    'HTTP/2 200 OK',
    'http/1.1 200 OK',
    'ICY 200 OK',
    ' HTTP/1.1 200 OK',
    'HTTP/1.1  200 OK',
    '',
  ])('invalid status line %j', (line) => {
    const err = parseError([`${line}\r\nContent-Length: 0\r\n\r\n`]);
    expect(err.message).toMatch(/invalid status line/);
  });

  test.each([
    'No-Colon',
    ': empty name',
    'Space Name: x',
    'Name : x',
    ' Folded: x',
    '\tFolded: x',
    'Bad(Name): x',
    'Na\u00e9me: x',
  ])('invalid header line %j', (line) => {
    const err = parseError([`HTTP/1.1 200 OK\r\n${line}\r\nContent-Length: 0\r\n\r\n`]);
    expect(err.message).toMatch(/invalid header line/);
  });

  test.each(['a\nb', 'a\0b', 'a\rb'])('invalid header value %j', (value) => {
    // A bare CR or LF inside a value (not the CRLF that ends a line).
    const err = parseError([`HTTP/1.1 200 OK\r\nX-Thing: ${value}\r\nContent-Length: 0\r\n\r\n`]);
    expect(err.message).toMatch(/invalid (value for header|header line)/);
  });

  test.each(['abc', '-1', '1e3', '0x10', '+5', '5 5', '', '1234567890123456'])('invalid Content-Length %j', (value) => {
    const err = parseError([`HTTP/1.1 200 OK\r\nContent-Length: ${value}\r\n\r\n`]);
    expect(err.message).toMatch(/invalid Content-Length/);
  });

  test('conflicting Content-Length headers throw; repeated equal ones do not', () => {
    expect(parseError(['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello']).message).toMatch(/conflicting Content-Length/);
    expect(parseError(['HTTP/1.1 200 OK\r\ncontent-length: 5\r\nCONTENT-LENGTH: 6\r\n\r\nhello']).message).toMatch(/conflicting/);
    const p = one('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello');
    expect(p.body.toString()).toBe('hello');
    expect(p.complete).toBe(true);
  });

  test.each(['zz', '-1', ' 5', '0x5', '', ';ext', '12345678901234', 'g'])('invalid chunk size %j', (size) => {
    const err = parseError([`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\nhello\r\n0\r\n\r\n`]);
    expect(err.message).toMatch(/invalid chunk size/);
  });

  test('a chunk-size line over 1024 bytes throws, whether it ends or not', () => {
    const ext = ';x=' + 'a'.repeat(1100);
    expect(parseError([`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5${ext}\r\nhello\r\n0\r\n\r\n`]).message).toMatch(/chunk-size line is over/);
    expect(parseError(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5', ext]).message).toMatch(/chunk-size line is over/);
  });

  test('a chunk without its closing CRLF throws, in one read or split', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    expect(parseError([`${head}5\r\nhelloXY0\r\n\r\n`]).message).toMatch(/closing CRLF/);
    expect(parseError([`${head}5\r\nhello\n0\r\n\r\n`]).message).toMatch(/closing CRLF/);
    expect(parseError([`${head}5\r\nhello\r`, 'X']).message).toMatch(/closing CRLF/);
    expect(parseError([`${head}5\r\nhello`, '\n\r']).message).toMatch(/closing CRLF/);
    // A chunk longer than its size says.
    expect(parseError([`${head}5\r\nhello!\r\n0\r\n\r\n`]).message).toMatch(/closing CRLF/);
  });

  test('a head over maxHeaderBytes throws, whole or arriving in pieces', () => {
    const big = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(200)}\r\nContent-Length: 0\r\n\r\n`;
    expect(parseError([big], { max: 100 }).message).toMatch(/answer head is over 100 bytes/);
    // Never terminated: the limit stops the collecting.
    const pieces = ['HTTP/1.1 200 OK\r\n', ...Array.from({ length: 20 }, () => 'X-Filler: 0123456789\r\n')];
    expect(parseError(pieces, { max: 100 }).message).toMatch(/answer head is over 100 bytes/);
    // At the limit it is accepted (the limit counts the head without its final CRLFCRLF).
    const exact = 'HTTP/1.1 200 OK\r\nContent-Length: 0';
    expect(one(`${exact}\r\n\r\n`, { max: exact.length }).complete).toBe(true);
    expect(() => one(`${exact}\r\n\r\n`, { max: exact.length - 1 })).toThrow(ResponseParseError);
  });

  test('a trailer section over maxHeaderBytes throws', () => {
    const raw = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: ${'a'.repeat(300)}`;
    expect(parseError([raw, 'b'.repeat(100)], { max: 200 }).message).toMatch(/trailer section is over 200 bytes/);
  });

  test('end() on an incomplete answer throws', () => {
    const cases: [string, RegExp][] = [
      ['', /without answering/],
      ['HTTP/1.1 200 OK\r\nContent-Le', /without answering/],
      ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel', /in the middle of the answer/],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', /in the middle of the answer/],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello', /in the middle of the answer/],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n', /in the middle of the answer/],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n', /in the middle of the answer/],
    ];
    for (const [raw, message] of cases) {
      const p = one(raw);
      expect(p.complete).toBe(false);
      let thrown: unknown;
      try {
        p.parser.end();
      } catch (err) {
        thrown = err;
      }
      expect(thrown, JSON.stringify(raw)).toBeInstanceOf(ResponseParseError);
      expect((thrown as Error).message).toMatch(message);
    }
  });

  test('end() on a complete answer does nothing', () => {
    const p = one('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    p.parser.end();
    expect(p.parser.complete).toBe(true);
  });
});

describe('ResponseParser: bytes used', () => {
  test('execute returns fewer bytes when the answer completes before the end of the buffer', () => {
    const answer = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
    const p = one(`${answer}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno`);
    expect(p.used).toEqual([answer.length]);
    expect(p.body.toString()).toBe('ok');

    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX: 1\r\n\r\n';
    expect(one(`${chunked}garbage`).used).toEqual([chunked.length]);
    const emptyTrailers = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
    expect(one(`${emptyTrailers}\r\n`).used).toEqual([emptyTrailers.length]);
    // Completing in a later read: only that read's share is used.
    const split = parse(['HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab', 'cdEXTRA']);
    expect(split.used).toEqual([40, 2]);
    expect(split.body.toString()).toBe('abcd');
  });

  test('nothing is used after the answer is complete, nor of an empty buffer', () => {
    const p = one('HTTP/1.1 204 No Content\r\n\r\n');
    expect(p.parser.execute(Buffer.from('more'))).toBe(0);
    const fresh = new ResponseParser('GET', MAX, { onHead: () => {}, onBody: () => {} });
    expect(fresh.execute(Buffer.alloc(0))).toBe(0);
    expect(fresh.answered).toBe(false);
  });

  test('answered turns true with the head, complete with the end of the body', () => {
    const p = parse(['HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab']);
    expect(p.answered).toBe(true);
    expect(p.complete).toBe(false);
    p.parser.execute(Buffer.from('cd'));
    expect(p.parser.complete).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Split invariance: an answer read whole, split in two at every point, or one byte at a time
// gives the same head, the same body and the same number of bytes used.

interface Sample {
  name: string;
  raw: Buffer;
  method?: string;
  /** Close-delimited: end() completes it. */
  close?: boolean;
  /** Bytes that follow the answer (and must not be used). */
  extra?: number;
}

function chunkedBody(pieces: Buffer[], extensions: boolean, trailers: string): Buffer {
  const parts: Buffer[] = [];
  pieces.forEach((p, i) => {
    const ext = extensions ? [';a=1', ' ; q="x;\\"y"', ';flag', ''][i % 4] : '';
    const size = i % 2 === 0 ? p.length.toString(16) : p.length.toString(16).toUpperCase();
    parts.push(Buffer.from(`${size}${ext}\r\n`, 'latin1'), p, Buffer.from('\r\n'));
  });
  parts.push(Buffer.from(`0${extensions ? ';end' : ''}\r\n${trailers}\r\n`, 'latin1'));
  return Buffer.concat(parts);
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const lengthBody = Buffer.from('{"Id":"abc","Warnings":[]}\r\n\r\nHTTP/1.1 200 OK\r\n\r\n');
const chunkPieces = [Buffer.from('hello'), Buffer.from('\r\n'), bytes(40, 7), Buffer.from('0\r\n\r\n'), Buffer.from('x'), bytes(17, 3)];

const SAMPLES: Sample[] = [
  {
    name: 'length',
    raw: Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${lengthBody.length}\r\n\r\n`), lengthBody]),
  },
  {
    name: 'length after 100 Continue, with bytes after it',
    raw: Buffer.concat([
      Buffer.from(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: ${lengthBody.length}\r\n\r\n`),
      lengthBody,
      Buffer.from('HTTP/1.1 200 OK\r\n'),
    ]),
    extra: 'HTTP/1.1 200 OK\r\n'.length,
  },
  {
    name: 'chunked with extensions and trailers',
    raw: Buffer.concat([
      Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-A, X-B\r\n\r\n'),
      chunkedBody(chunkPieces, true, 'X-A: 1\r\nX-B: two words\r\n'),
    ]),
  },
  {
    name: 'chunked with empty trailers and bytes after it',
    raw: Buffer.concat([
      Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
      chunkedBody(chunkPieces, false, ''),
      Buffer.from('\r\nHTTP'),
    ]),
    extra: 6,
  },
  {
    name: 'chunked, empty body, trailers, bytes after it',
    raw: Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n\r\nZZ'),
    extra: 2,
  },
  {
    name: 'close-delimited',
    raw: Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n'), bytes(60, 11)]),
    close: true,
  },
  {
    name: 'HEAD with a Content-Length, bytes after it',
    raw: Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 2'),
    method: 'HEAD',
    extra: 10,
  },
];

function feed(sample: Sample, chunks: Buffer[]) {
  const p = parse(chunks, { method: sample.method, end: sample.close === true });
  return { heads: p.heads, body: p.body, consumed: p.consumed, complete: p.parser.complete };
}

function splits(raw: Buffer): Buffer[][] {
  const out: Buffer[][] = [];
  for (let i = 0; i <= raw.length; i++) out.push([raw.subarray(0, i), raw.subarray(i)]);
  return out;
}

function byteByByte(raw: Buffer): Buffer[] {
  return Array.from({ length: raw.length }, (_, i) => raw.subarray(i, i + 1));
}

describe('ResponseParser: where the bytes are split changes nothing', () => {
  test.each(SAMPLES)('$name', (sample) => {
    const whole = feed(sample, [sample.raw]);
    expect(whole.heads).toHaveLength(1);
    expect(whole.complete).toBe(true);
    expect(whole.consumed).toBe(sample.raw.length - (sample.extra ?? 0));

    for (const parts of splits(sample.raw)) {
      const got = feed(sample, parts);
      const at = parts[0]!.length;
      expect(got.heads, `split at ${at}`).toEqual(whole.heads);
      expect(got.body.equals(whole.body), `split at ${at}`).toBe(true);
      expect(got.consumed, `split at ${at}`).toBe(whole.consumed);
      expect(got.complete, `split at ${at}`).toBe(true);
    }

    const single = feed(sample, byteByByte(sample.raw));
    expect(single.heads).toEqual(whole.heads);
    expect(single.body.equals(whole.body)).toBe(true);
    expect(single.consumed).toBe(whole.consumed);
    expect(single.complete).toBe(true);

    // Three-way splits around the framing bytes of small samples.
    if (sample.raw.length <= 200) {
      for (let i = 0; i <= sample.raw.length; i += 3) {
        for (let j = i; j <= sample.raw.length; j += 5) {
          const got = feed(sample, [sample.raw.subarray(0, i), sample.raw.subarray(i, j), sample.raw.subarray(j)]);
          expect(got.heads).toEqual(whole.heads);
          expect(got.body.equals(whole.body), `split at ${i}, ${j}`).toBe(true);
          expect(got.consumed).toBe(whole.consumed);
        }
      }
    }
  });

  test('the chunked sample decodes to the pieces it was built from', () => {
    const sample = SAMPLES.find((s) => s.name === 'chunked with extensions and trailers')!;
    expect(feed(sample, [sample.raw]).body.equals(Buffer.concat(chunkPieces))).toBe(true);
  });

  test('errors are found wherever the bytes are split', () => {
    const bad = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x\r\nhello\r\n3\r\nabcX\r\n0\r\n\r\n');
    for (const parts of [...splits(bad), byteByByte(bad)]) {
      expect(() => parse(parts)).toThrow(/closing CRLF/);
    }
  });
});

// keepChunkFraming (set from onHead): a relay gets the chunked body exactly as the daemon framed
// it — size lines, extensions, CRLFs, last chunk and trailers — wherever the bytes are split, and
// the parser still finds the end of the answer (bytes after it are not handed on).
describe('ResponseParser: keepChunkFraming', () => {
  function framed(chunks: Buffer[]): { body: Buffer; consumed: number; complete: boolean } {
    const body: Buffer[] = [];
    const parser: ResponseParser = new ResponseParser('GET', MAX, {
      onHead: () => {
        parser.keepChunkFraming = true;
      },
      onBody: (c) => {
        expect(c.length).toBeGreaterThan(0);
        body.push(Buffer.from(c));
      },
    });
    let consumed = 0;
    for (const chunk of chunks) {
      if (parser.complete) break;
      consumed += parser.execute(chunk);
    }
    return { body: Buffer.concat(body), consumed, complete: parser.complete };
  }

  test.each(SAMPLES.filter((s) => s.name.startsWith('chunked')))('$name', (sample) => {
    const headEnd = sample.raw.indexOf('\r\n\r\n') + 4;
    const expected = sample.raw.subarray(headEnd, sample.raw.length - (sample.extra ?? 0));
    for (const parts of [[sample.raw], ...splits(sample.raw), byteByByte(sample.raw)]) {
      const got = framed(parts);
      expect(got.complete).toBe(true);
      expect(got.consumed).toBe(sample.raw.length - (sample.extra ?? 0));
      expect(got.body.equals(expected), `split at ${parts[0]!.length}`).toBe(true);
    }
  });

  test('a Content-Length body is handed on as it is either way', () => {
    const sample = SAMPLES.find((s) => s.name === 'length')!;
    expect(framed([sample.raw]).body.equals(lengthBody)).toBe(true);
  });
});

// The limits, too, must not depend on where the bytes are split. `maxHeaderBytes` counts a head
// without its final CRLFCRLF (a head of exactly that many bytes is accepted); the trailer section is
// counted the same way (its field lines without the CRLF that ends the last one and the empty
// line); the chunk-size line (limit 1024) without its CRLF.
describe('ResponseParser: limits do not depend on where the bytes are split', () => {
  function outcome(chunks: Buffer[], max: number): string {
    try {
      const p = parse(chunks, { max });
      return p.complete ? `complete: ${p.body.toString('latin1')}` : 'incomplete';
    } catch (err) {
      if (!(err instanceof ResponseParseError)) throw err;
      return 'ResponseParseError';
    }
  }

  function everySplit(raw: Buffer, max: number, expected: string): void {
    expect(outcome([raw], max), 'whole').toBe(expected);
    for (const parts of splits(raw)) expect(outcome(parts, max), `split at ${parts[0]!.length}`).toBe(expected);
    expect(outcome(byteByByte(raw), max), 'byte by byte').toBe(expected);
  }

  test('a head of exactly maxHeaderBytes is accepted, one byte more refused, however it is split', () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 2';
    const raw = Buffer.from(`${head}\r\n\r\nok`);
    everySplit(raw, head.length, 'complete: ok');
    everySplit(raw, head.length - 1, 'ResponseParseError');
  });

  test('a chunk-size line of exactly 1024 bytes is accepted, one byte more refused, however it is split', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    const line = (n: number) => `2;x=${'a'.repeat(n - 4)}`;
    expect(line(1024)).toHaveLength(1024);
    everySplit(Buffer.from(`${head}${line(1024)}\r\nok\r\n0\r\n\r\n`), MAX, 'complete: ok');
    everySplit(Buffer.from(`${head}${line(1025)}\r\nok\r\n0\r\n\r\n`), MAX, 'ResponseParseError');
  });

  test('a trailer section of exactly maxHeaderBytes is accepted, one byte more refused, however it is split', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n';
    const trailers = `X-A: 1\r\nX-B: ${'b'.repeat(50)}`;
    const raw = Buffer.from(`${head}${trailers}\r\n\r\n`);
    everySplit(raw, trailers.length, 'complete: ok');
    everySplit(raw, trailers.length - 1, 'ResponseParseError');
  });
});
