import { readFileSync } from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import type { TcpListenerConfig } from '../config/config.js';
import type { ConnectionIdentity } from '../admission/gate.js';
import type { Logger } from '../log/logger.js';
import { throttledWarning } from '../log/throttled.js';
import type { RefusedConnection } from './connection-limit.js';
import { ListenerError } from './unix-socket.js';
import { certificateFacts, mapIdentity } from './identity-map.js';

// A TCP listener with mutual TLS. The client must present a certificate that chains to the
// listener's client CA, or the handshake fails; the verified certificate is then mapped to an
// identity by the listener's rules, once per connection. Nothing the client sends over HTTP
// (headers, labels, bodies) takes part: a certificate no rule maps gets every request refused.

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ListenerError(`cannot read the ${what} ${file}: ${(err as Error).message}`);
  }
}

/** Server options: a client certificate from the client CA is required, or the handshake fails. */
export function mutualTlsOptions(l: TcpListenerConfig, handshakeTimeoutMs: number): tls.TlsOptions {
  const options: tls.TlsOptions = {
    cert: readPem(l.tcp.cert, 'server certificate'),
    key: readPem(l.tcp.key, 'server key'),
    ca: readPem(l.tcp.clientCA, 'client CA'),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    // A handshake that never ends is slowloris one layer down.
    handshakeTimeout: handshakeTimeoutMs,
  };
  // Checked here so that a bad PEM or a key that does not fit the certificate is a clear start-up error.
  try {
    tls.createSecureContext(options);
  } catch (err) {
    throw new ListenerError(`listener ${l.name}: unusable TLS files (cert ${l.tcp.cert}, key ${l.tcp.key}, clientCA ${l.tcp.clientCA}): ${(err as Error).message}`);
  }
  return options;
}

/** Logs (throttled) refused handshakes: no certificate, one from another CA, garbage. */
export function logRefusedHandshakes(server: tls.Server, log: Logger, count?: (reason: RefusedConnection) => void): void {
  const refused = throttledWarning(log, 'TLS handshake refused');
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
    count?.('tls_handshake');
    refused({ reason: err.code ?? err.message, remoteAddress: socket.remoteAddress });
    socket.destroy();
  });
}

/**
 * The identity of each connection, from its verified client certificate, decided on its first
 * request and kept for the connection's life (a renegotiation cannot change it).
 */
export function certificateIdentity(l: TcpListenerConfig, log: Logger, count?: (reason: RefusedConnection) => void): ConnectionIdentity {
  const decided = new WeakMap<net.Socket, ReturnType<ConnectionIdentity>>();
  const warn = throttledWarning(log, 'connection refused: the client certificate maps to no identity');
  const unmapped = (fields: Record<string, unknown>) => {
    count?.('unmapped_certificate');
    warn(fields);
  };
  const refuse = (message: string) => ({ ok: false as const, message: `dockgate: connection refused: ${message}` });

  function decide(socket: tls.TLSSocket): ReturnType<ConnectionIdentity> {
    // rejectUnauthorized lets only verified chains through; checked again so that a change there cannot open this.
    if (!socket.authorized) return refuse(`client certificate not verified (${String(socket.authorizationError)})`);
    let facts;
    try {
      facts = certificateFacts(socket.getPeerCertificate());
    } catch (err) {
      unmapped({ reason: (err as Error).message, remoteAddress: socket.remoteAddress });
      return refuse(`the client certificate cannot be read on listener ${l.name}`);
    }
    const who = mapIdentity(l.identityFrom, facts);
    if (!who) {
      unmapped({ reason: 'no identityFrom rule matches', subject: facts.subject, sans: facts.sans, fingerprint256: facts.fingerprint256, remoteAddress: socket.remoteAddress });
      return refuse(`the client certificate (${facts.subject || 'empty subject'}) maps to no identity on listener ${l.name}`);
    }
    log.debug({ remoteAddress: socket.remoteAddress, subject: facts.subject, fingerprint256: facts.fingerprint256, username: who.identity.username, rule: who.rule }, 'TLS client identified');
    const profile = who.profile ?? l.profile;
    return {
      ok: true,
      userInfo: {
        username: who.identity.username,
        groups: who.identity.groups,
        listener: l.name,
        authenticatedBy: 'tls',
        ...(profile !== undefined ? { profile } : {}),
      },
    };
  }

  return (socket) => {
    let result = decided.get(socket);
    if (!result) {
      result = 'getPeerCertificate' in socket ? decide(socket as tls.TLSSocket) : refuse('not a TLS connection');
      decided.set(socket, result);
    }
    return result;
  };
}

/** Binds host:port; resolves with the address actually bound (port 0 picks a free one). */
export async function listenTcp(server: net.Server, l: TcpListenerConfig): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(new ListenerError(`listener ${l.name}: cannot listen on ${l.tcp.host}:${l.tcp.port}: ${err.message}`));
    server.once('error', onError);
    server.listen({ host: l.tcp.host, port: l.tcp.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address() as net.AddressInfo;
  return `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
}
