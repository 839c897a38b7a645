import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

// A decision-log collector for the tests: takes OPA-style uploads (POST, gzip JSON array of
// events), keeps every event, and can refuse uploads to test retries.

export interface CollectorUpload {
  status: number;
  contentEncoding: string | undefined;
  contentType: string | undefined;
  events: number;
}

export interface DecisionCollector {
  url: string;
  events: Record<string, unknown>[];
  uploads: CollectorUpload[];
  /** Answer uploads with this status (events not kept) until set back to null. */
  failWith(status: number | null): void;
  close(): Promise<void>;
}

export async function startCollector(): Promise<DecisionCollector> {
  const events: Record<string, unknown>[] = [];
  const uploads: CollectorUpload[] = [];
  let failure: number | null = null;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const upload: CollectorUpload = { status: failure ?? 200, contentEncoding: req.headers['content-encoding'], contentType: req.headers['content-type'], events: 0 };
      uploads.push(upload);
      if (failure === null) {
        const body = Buffer.concat(chunks);
        const batch = JSON.parse((upload.contentEncoding === 'gzip' ? gunzipSync(body) : body).toString('utf8')) as Record<string, unknown>[];
        upload.events = batch.length;
        events.push(...batch);
      }
      res.writeHead(upload.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/logs`,
    events,
    uploads,
    failWith(status) {
      failure = status;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
