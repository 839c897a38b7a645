import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';

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

// The same answer written on a raw socket (upgrade requests have no ServerResponse), then closed.
export function writeDockerErrorToSocket(socket: Socket, status: number, message: string): void {
  const body = dockerErrorBody(message);
  const head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n';
  if (!socket.destroyed) socket.end(head + body);
}
