import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { STATUS_CODES } from '../runtime/node-http.js';

// Docker's error shape. The Go client only extracts `message` when the Content-Type is exactly
// application/json, and the CLI then prints "Error response from daemon: <message>".
export function dockerErrorBody(message: string): string {
  return JSON.stringify({ message });
}

export function sendDockerError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    // Too late for a clean answer: cut the response so the client sees an error, not a short body.
    res.destroy();
    return;
  }
  const body = dockerErrorBody(message);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

// How long a refused client may take to read its answer before its connection is cut anyway.
const ANSWER_FLUSH_MS = 5_000;

/**
 * The same answer written on a raw socket (upgrade requests and malformed ones have no
 * ServerResponse), then the connection is closed by dockgate: not left half-open waiting for a
 * client that may never close its end (each such socket would hold a file descriptor).
 */
export function writeDockerErrorToSocket(socket: Socket, status: number, message: string): void {
  const body = dockerErrorBody(message);
  const head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n';
  if (socket.destroyed) return;
  const cut = setTimeout(() => socket.destroy(), ANSWER_FLUSH_MS);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
  // Once the answer is flushed to the kernel the client can read it after we close.
  socket.end(head + body, () => socket.destroy());
}
