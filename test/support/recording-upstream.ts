import { promises as fs } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';

// A fake daemon for the hostile-client tests: it records every request that reaches it (what
// dockgate forwarded, or looked up), parsed by Node's own HTTP parser, and answers with a tiny
// Docker-shaped reply. Upgrade requests get a 101 and are closed (a 404 on a path with /missing/). Responses carry
// `X-Recorded: 1`, so a test can tell the daemon's answer from dockgate's own.

export interface RecordedRequest {
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer;
  upgrade: boolean;
}

export interface RecordingUpstream {
  socketPath: string;
  /** unix://<socketPath> for dockgate's --upstream. */
  address: string;
  readonly requests: readonly RecordedRequest[];
  /** Closes every connection dockgate holds to it (its keep-alive pool), e.g. before counting fds. */
  dropConnections(): void;
  close(): Promise<void>;
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'X-Recorded': '1' });
  res.end(text);
}

export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const dir = await fs.mkdtemp('/tmp/dgrec-');
  const socketPath = path.join(dir, 'docker.sock');
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer({ maxHeaderSize: 2 * 1024 * 1024 });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('request', (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, body: Buffer.concat(chunks), upgrade: false });
      if (req.method === 'GET' && /\/_ping$/.test(req.url ?? '')) {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Api-Version': '1.47', 'X-Recorded': '1', 'Content-Length': 2 });
        res.end('OK');
      } else if (req.method === 'GET' || req.method === 'HEAD') {
        // Lookups find nothing: the policy then judges the request without an oldObject.
        reply(res, 404, { message: 'No such object' });
      } else {
        reply(res, req.url?.includes('/create') ? 201 : 200, { Id: 'recorded', Warnings: [] });
      }
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, body: head, upgrade: true });
    socket.on('error', () => socket.destroy());
    if (req.url?.includes('/missing/')) {
      // Not upgraded: an ordinary error answer, as dockerd gives for an unknown exec.
      const body = JSON.stringify({ message: 'No such exec instance' });
      socket.write(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Recorded: 1\r\n\r\n${body}`);
      return;
    }
    socket.end('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nX-Recorded: 1\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    socketPath,
    address: `unix://${socketPath}`,
    requests,
    dropConnections: () => {
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
