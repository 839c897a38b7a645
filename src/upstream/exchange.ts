// One request and its answer on a keep-alive connection to the daemon: writes the request head
// and body, parses the answer (response-parser.ts) and hands its parts to a handler, then gives
// the connection back to the pool when both sides are complete and the answer allows it.
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { ResponseParser, type ResponseHead } from './response-parser.js';

export interface ExchangeHandler {
  /** The answer's head; its body follows through onBody (and a handler may pause() it). */
  onHead(head: ResponseHead): void;
  onBody(chunk: Buffer): void;
  /** The whole answer has arrived. */
  onComplete(): void;
  /**
   * The exchange failed: the daemon could not be reached, cut the connection or sent something
   * that is not HTTP. `answered`: the head had already been handed on (a body was being relayed).
   */
  onError(err: Error, answered: boolean): void;
}

/** What an exchange needs of its connection (connection-pool.ts). */
export interface ExchangeConnection {
  readonly socket: Socket;
  /** The exchange is over and the connection can carry the next request. */
  release(): void;
  /** The exchange moved to another connection: this one reports nothing more to it. */
  detach(): void;
}

// A request that changes nothing may be sent again when a kept-alive connection turns out to be
// closed before any byte of the answer (the daemon closed it as the request went out): the
// request cannot have had an effect worth keeping, and the client should not see that race.
const REPLAYABLE = new Set(['GET', 'HEAD']);

const CHUNK_END = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';

export class UpstreamExchange {
  private readonly parser: ResponseParser;
  private head: ResponseHead | undefined;
  /** Request bytes all written (head and body). */
  private requestDone = false;
  private over = false;
  private detachSource: (() => void) | undefined;
  /** Bytes of an answer arrived on this exchange's connection. */
  private received = false;
  /** The request head, kept while the exchange may be replayed (see REPLAYABLE). */
  private replayHead: string | undefined;

  /**
   * `reconnect`: for an exchange on a reused connection, a new connection to replay it on once
   * (only a body-less GET or HEAD that failed before any byte of the answer).
   */
  constructor(
    private connection: ExchangeConnection,
    private readonly method: string,
    maxHeaderBytes: number,
    private readonly handler: ExchangeHandler,
    private reconnect?: () => ExchangeConnection,
  ) {
    this.parser = new ResponseParser(method, maxHeaderBytes, {
      onHead: (head) => {
        this.head = head;
        handler.onHead(head);
      },
      onBody: (chunk) => {
        if (!this.over) handler.onBody(chunk);
      },
    });
  }

  /** Writes the request head, then `body` (whole) or nothing; the request is then complete. */
  send(head: string, body: Buffer | null): void {
    const { socket } = this.connection;
    if (body && body.length > 0) {
      socket.cork();
      socket.write(head, 'latin1');
      socket.write(body);
      socket.uncork();
    } else {
      socket.write(head, 'latin1');
      if (this.reconnect && REPLAYABLE.has(this.method)) this.replayHead = head;
    }
    this.requestDone = true;
  }

  /**
   * Writes the request head, then streams `source` as the body: as is when the head gives its
   * Content-Length, else in chunked encoding. Backpressure pauses the source.
   */
  stream(head: string, source: Readable, chunked: boolean): void {
    const { socket } = this.connection;
    socket.write(head, 'latin1');
    const resumeSource = () => source.resume();
    const onData = (data: Buffer | string) => {
      const c = typeof data === 'string' ? Buffer.from(data) : data; // chunk sizes count bytes
      if (c.length === 0) return;
      let ok: boolean;
      if (chunked) {
        socket.cork();
        socket.write(`${c.length.toString(16)}\r\n`, 'latin1');
        socket.write(c);
        ok = socket.write(CHUNK_END, 'latin1');
        socket.uncork();
      } else {
        ok = socket.write(c);
      }
      if (!ok) {
        source.pause();
        socket.once('drain', resumeSource);
      }
    };
    const onEnd = () => {
      this.detachSource?.();
      if (chunked) socket.write(LAST_CHUNK, 'latin1');
      this.requestDone = true;
    };
    this.detachSource = () => {
      this.detachSource = undefined;
      source.off('data', onData);
      source.off('end', onEnd);
      socket.off('drain', resumeSource);
    };
    source.on('data', onData);
    source.once('end', onEnd);
  }

  /** From onHead: a chunked body reaches onBody with its chunk framing (ResponseParser.keepChunkFraming). */
  keepChunkFraming(): void {
    this.parser.keepChunkFraming = true;
  }

  /** Stops reading the answer (the handler's consumer is full). */
  pause(): void {
    if (!this.over) this.connection.socket.pause();
  }

  resume(): void {
    if (!this.over) this.connection.socket.resume();
  }

  /** Gives up on the exchange: the connection is closed, the handler hears nothing more. */
  abort(): void {
    if (this.over) return;
    this.close();
  }

  /** Bytes from the connection. */
  data(chunk: Buffer): void {
    if (this.over) return;
    this.received = true;
    this.replayHead = undefined;
    let used: number;
    try {
      used = this.parser.execute(chunk);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    if (!this.parser.complete || this.over) return;
    if (used < chunk.length) {
      // Bytes after a complete answer: nothing the daemon sends unasked; the answer stands,
      // the connection is not trusted with another request.
      this.close();
      this.handler.onComplete();
      return;
    }
    this.complete();
  }

  /** The daemon ended the connection: completes an answer delimited by the close, else fails. */
  eof(): void {
    if (this.over) return;
    try {
      this.parser.end();
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.close();
    this.handler.onComplete();
  }

  /** The connection failed or closed under the exchange. */
  fail(err: Error): void {
    if (this.over) return;
    if (this.replayHead !== undefined && !this.received && this.reconnect) {
      const head = this.replayHead;
      const next = this.reconnect();
      this.reconnect = undefined;
      this.replayHead = undefined;
      this.connection.detach();
      this.connection.socket.destroy();
      this.connection = next;
      next.socket.write(head, 'latin1');
      return;
    }
    this.close();
    this.handler.onError(err, this.parser.answered);
  }

  /** The answer is complete: the connection goes back to the pool if it can carry another. */
  private complete(): void {
    if (this.requestDone && this.head?.keepAlive === true) {
      this.over = true;
      this.connection.socket.resume();
      this.connection.release();
    } else {
      // The answer closes the connection, or came before the whole body was sent (the daemon
      // reads no more of it): this connection carries nothing more.
      this.close();
    }
    this.handler.onComplete();
  }

  private close(): void {
    this.over = true;
    this.detachSource?.();
    this.connection.socket.destroy();
  }
}
