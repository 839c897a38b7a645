// The reference proxies' one piece of shared wiring: a client connection and the daemon
// connection opened for it live and die together.
import type { Socket } from 'node:net';

/** An error on either side destroys both, and so does either side closing. */
export function tieTogether(client: Socket, daemon: Socket): void {
  client.on('error', () => daemon.destroy());
  daemon.on('error', () => client.destroy());
  client.on('close', () => daemon.destroy());
  daemon.on('close', () => client.destroy());
}
