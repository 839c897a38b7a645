// Long-lived streams for the concurrency figures: `logs -f` (a chunked GET that never ends) and
// `attach` (an HTTP upgrade to a raw bidirectional stream), each on its own connection, counting
// the bytes the container's output delivers through them.
import http from 'node:http';
import type { Socket } from 'node:net';
import { API } from './engine-objects.js';

export interface HeldStream {
  kind: 'logs' | 'attach';
  bytes: number;
  /** Set when the stream failed or closed before we closed it. */
  error: string | undefined;
  close(): void;
}

export function openStream(socketPath: string, kind: 'logs' | 'attach', container: string, timeoutMs = 30_000): Promise<HeldStream> {
  return new Promise((resolve, reject) => {
    let closing = false;
    const stream: HeldStream = { kind, bytes: 0, error: undefined, close: () => undefined };
    const track = (source: NodeJS.ReadableStream & { destroy(): void }, socket: Socket) => {
      source.on('data', (c: Buffer) => (stream.bytes += c.length));
      const ended = (why: string) => {
        if (!closing && stream.error === undefined) stream.error = why;
      };
      source.on('error', (e: Error) => ended(e.message));
      source.on('end', () => ended('ended by the other side'));
      socket.on('close', () => ended('connection closed by the other side'));
      stream.close = () => {
        closing = true;
        socket.destroy();
      };
    };
    const timer = setTimeout(() => {
      req.destroy(new Error(`${kind} stream not established within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    let req: http.ClientRequest;
    if (kind === 'logs') {
      req = http.request({ socketPath, agent: false, method: 'GET', path: `${API}/containers/${container}/logs?follow=1&stdout=1&stderr=1&tail=0`, headers: { Host: 'docker' } });
      req.once('response', (res) => {
        clearTimeout(timer);
        if (res.statusCode !== 200) {
          res.resume();
          req.destroy();
          return reject(new Error(`logs -f: HTTP ${res.statusCode}`));
        }
        track(res, res.socket);
        resolve(stream);
      });
    } else {
      req = http.request({
        socketPath,
        agent: false,
        method: 'POST',
        path: `${API}/containers/${container}/attach?stream=1&stdout=1&stderr=1`,
        headers: { Host: 'docker', Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Length': 0 },
      });
      req.once('upgrade', (res, socket: Socket, head: Buffer) => {
        clearTimeout(timer);
        if (res.statusCode !== 101) {
          socket.destroy();
          return reject(new Error(`attach: HTTP ${res.statusCode}`));
        }
        stream.bytes += head.length;
        track(socket, socket);
        resolve(stream);
      });
      req.once('response', (res) => {
        clearTimeout(timer);
        res.resume();
        reject(new Error(`attach: HTTP ${res.statusCode} instead of an upgrade`));
      });
    }
    req.once('error', fail);
    req.end();
  });
}
