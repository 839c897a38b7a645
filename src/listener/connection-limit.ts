import type net from 'node:net';
import type { Logger } from '../log/logger.js';
import { throttledWarning } from '../log/throttled.js';

// Per-listener connection cap: each listener has its own accepting server, so a tenant that
// opens connections without end (or holds them open) uses up its own listener's slots only;
// other listeners keep accepting. Node closes a connection over the cap right on accept
// (net.Server.maxConnections) and emits 'drop', which we log (throttled) and count.

/** Why a listener closed a connection before judging anything (a metrics label: a fixed set). */
export type RefusedConnection = 'maxConnections' | 'tls_handshake' | 'unmapped_certificate';

/** Counts refused connections; DockgateMetrics implements it. */
export interface ConnectionStats {
  connectionRefused(listener: string, reason: RefusedConnection): void;
}

export interface ConnectionLimit {
  /** Connections closed on accept because the listener was full. */
  readonly dropped: number;
}

export function limitConnections(server: net.Server, maxConnections: number | undefined, log: Logger, count?: (reason: RefusedConnection) => void): ConnectionLimit {
  if (maxConnections === undefined) return { dropped: 0 };
  server.maxConnections = maxConnections;
  const warn = throttledWarning(log, 'connection refused: the listener is at maxConnections');
  server.on('drop', (data?: net.DropArgument) => {
    count?.('maxConnections');
    warn({ reason: 'maxConnections', maxConnections, ...(data?.remoteAddress ? { remoteAddress: data.remoteAddress, remotePort: data.remotePort } : {}) });
  });
  return {
    get dropped() {
      return warn.total;
    },
  };
}
