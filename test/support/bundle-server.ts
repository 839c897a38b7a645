import { hash, sign, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { readTar } from '../../src/policy/tar.js';
import { buildTarGz } from '../unit/support/tar-builder.js';

// A small OPA bundle server for the tests (the protocol of OPA's bundle plugin: ETag and
// If-None-Match/304, long polling with `Prefer: wait=N`), and a bundle signer that writes
// `.signatures.json` the way `opa build --signing-key` does.

export interface SeenRequest {
  ifNoneMatch: string | undefined;
  prefer: string | undefined;
  status: number;
}

export interface TestBundleServer {
  url: string;
  requests: SeenRequest[];
  /** The bundle served from now on; held long polls are answered with it. */
  setBundle(bytes: Buffer, etag: string): void;
  /** Answer every request with this status instead (null: serve the bundle again). */
  failWith(status: number | null): void;
  close(): Promise<void>;
}

export async function startBundleServer(opts: { longPolling?: boolean } = {}): Promise<TestBundleServer> {
  let bundle: { bytes: Buffer; etag: string } | undefined;
  let failure: number | null = null;
  const requests: SeenRequest[] = [];
  const waiting = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const seen: SeenRequest = { ifNoneMatch: req.headers['if-none-match'], prefer: req.headers.prefer as string | undefined, status: 0 };
    requests.push(seen);
    const answer = () => {
      const contentType = opts.longPolling ? 'application/vnd.openpolicyagent.bundles' : 'application/gzip';
      if (failure !== null || !bundle) {
        seen.status = failure ?? 404;
        res.writeHead(seen.status).end();
      } else if (seen.ifNoneMatch === bundle.etag) {
        seen.status = 304;
        res.writeHead(304, { ETag: bundle.etag, 'Content-Type': contentType }).end();
      } else {
        seen.status = 200;
        res.writeHead(200, { ETag: bundle.etag, 'Content-Type': contentType, 'Content-Length': bundle.bytes.length }).end(bundle.bytes);
      }
    };
    const wait = /wait=(\d+)/.exec(seen.prefer ?? '');
    if (opts.longPolling && wait && bundle && seen.ifNoneMatch === bundle.etag && failure === null) {
      // Hold the request until the bundle changes or the wait is over.
      const done = () => {
        clearTimeout(timer);
        waiting.delete(done);
        answer();
      };
      const timer = setTimeout(done, Number(wait[1]) * 1000);
      waiting.add(done);
      req.socket.on('close', () => {
        clearTimeout(timer);
        waiting.delete(done);
      });
      return;
    }
    answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/bundles/dockgate.tar.gz`,
    requests,
    setBundle(bytes, etag) {
      bundle = { bytes, etag };
      for (const done of [...waiting]) done();
    },
    failWith(status) {
      failure = status;
    },
    async close() {
      for (const done of [...waiting]) done();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// OPA hashes JSON files in canonical form (sorted keys, compact); the test bundles' JSON has only
// plain strings and integers, for which this simple form is the same.
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export interface SigningKey {
  algorithm: 'RS256' | 'ES256';
  privateKey: KeyObject;
  kid: string;
}

/** The bundle with a `.signatures.json` signed by `key` (OPA's format: a JWT listing every file's SHA-256). */
export function signBundle(bundle: Buffer, key: SigningKey): Buffer {
  const entries = readTar(gunzipSync(bundle), { maxEntries: 100, maxEntryBytes: 1 << 26 }).filter((e) => e.path !== '.signatures.json');
  const files = entries.map((e) => {
    const json = e.path === '.manifest' || e.path.endsWith('.json');
    const content = json ? canonical(JSON.parse(e.data.toString('utf8'))) : e.data;
    return { name: e.path, hash: hash('sha256', content), algorithm: 'SHA-256' };
  });
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: key.algorithm, kid: key.kid, typ: 'JWT' })}.${b64({ files })}`;
  const signature = sign('sha256', Buffer.from(input), key.algorithm === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey);
  const jwt = `${input}.${signature.toString('base64url')}`;
  return buildTarGz([
    ...entries.map((e) => ({ name: `/${e.path}`, data: e.data })),
    { name: '/.signatures.json', data: JSON.stringify({ signatures: [jwt] }) },
  ]);
}

