// The keep-alive connections to the daemon. Each connection carries one exchange at a time; an
// idle one waits in the pool (last in, first out: a few warm connections rather than a cycle
// through all of them) until the next request, or until the daemon closes it.
import type { Socket } from 'node:net';
import { UpstreamExchange, type ExchangeConnection, type ExchangeHandler } from './exchange.js';

/** Idle connections kept at most; more are closed when their exchange ends. */
const MAX_IDLE = 64;

class PooledConnection implements ExchangeConnection {
  exchange: UpstreamExchange | undefined;

  constructor(
    readonly socket: Socket,
    private readonly pool: ConnectionPool,
  ) {
    // One set of listeners for the connection's life, not one per request.
    socket.on('data', (chunk: Buffer) => {
      if (this.exchange) this.exchange.data(chunk);
      else socket.destroy(); // nothing was asked: not a connection to trust
    });
    socket.on('end', () => {
      if (this.exchange) this.exchange.eof();
      else socket.destroy();
    });
    socket.on('error', (err) => this.exchange?.fail(err));
    socket.on('close', () => {
      this.exchange?.fail(new Error('the daemon closed the connection'));
      this.exchange = undefined;
      pool.forget(this);
    });
  }

  release(): void {
    this.exchange = undefined;
    this.pool.idle(this);
  }

  detach(): void {
    this.exchange = undefined;
  }
}

export class ConnectionPool {
  private readonly free: PooledConnection[] = [];
  private readonly all = new Set<PooledConnection>();

  constructor(private readonly connect: () => Socket) {}

  /** A new exchange on an idle connection, or on a new one. */
  start(method: string, maxHeaderBytes: number, handler: ExchangeHandler): UpstreamExchange {
    let connection = this.free.pop();
    // One the daemon closed may still be here until its 'close' event.
    while (connection && (connection.socket.destroyed || !connection.socket.writable)) connection = this.free.pop();
    const reused = connection !== undefined;
    connection ??= this.open();
    const exchange: UpstreamExchange = new UpstreamExchange(
      connection,
      method,
      maxHeaderBytes,
      handler,
      reused
        ? () => {
            const fresh = this.open();
            fresh.exchange = exchange;
            return fresh;
          }
        : undefined,
    );
    connection.exchange = exchange;
    return exchange;
  }

  private open(): PooledConnection {
    const connection = new PooledConnection(this.connect(), this);
    this.all.add(connection);
    return connection;
  }

  /** Idle connections and connections in use. */
  get size(): { idle: number; total: number } {
    return { idle: this.free.length, total: this.all.size };
  }

  idle(connection: PooledConnection): void {
    if (this.free.length >= MAX_IDLE) {
      connection.socket.destroy();
      return;
    }
    this.free.push(connection);
  }

  forget(connection: PooledConnection): void {
    this.all.delete(connection);
    const i = this.free.indexOf(connection);
    if (i >= 0) this.free.splice(i, 1);
  }

  /** Closes every connection, idle or in use. */
  close(): void {
    for (const c of this.all) c.socket.destroy();
  }
}
