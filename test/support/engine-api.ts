import http from 'node:http';

// A minimal Engine API client over a unix socket, for the test infrastructure itself (daemon
// readiness, cleanup) and for assertions made directly at the daemon, bypassing dockgate.

export interface EngineResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

export interface EngineRequestOptions {
  body?: string | Buffer;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export function engineRequest(
  socketPath: string,
  method: string,
  path: string,
  opts: EngineRequestOptions = {},
): Promise<EngineResponse> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { Host: 'docker', ...opts.headers };
    if (opts.body !== undefined) {
      headers['Content-Length'] = Buffer.byteLength(opts.body);
      if (typeof opts.body === 'string' && headers['Content-Type'] === undefined) {
        headers['Content-Type'] = 'application/json';
      }
    }
    // A fresh connection per request (agent: false): no pool to leak between tests or daemons.
    const req = http.request({ socketPath, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          text: () => body.toString('utf8'),
          json: <T>() => JSON.parse(body.toString('utf8')) as T,
        });
      });
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`${method} ${path} on ${socketPath}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(opts.body);
  });
}

/** Resolves when GET /_ping answers OK; rejects after timeoutMs or when `gaveUp()` says so. */
export async function waitForPing(
  socketPath: string,
  timeoutMs: number,
  gaveUp: () => string | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  while (Date.now() < deadline) {
    const reason = gaveUp();
    if (reason !== undefined) throw new Error(reason);
    try {
      const res = await engineRequest(socketPath, 'GET', '/_ping', { timeoutMs: 2_000 });
      if (res.status === 200 && res.text() === 'OK') return;
      last = `status ${res.status}: ${res.text().slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${socketPath}: /_ping not OK within ${timeoutMs} ms (last: ${last})`);
}

interface ContainerSummary {
  Id: string;
  Names: string[];
  State: string;
  Labels: Record<string, string> | null;
}

/** Containers at the daemon matching Engine API list filters (all states). */
export async function listContainers(
  socketPath: string,
  filters: Record<string, string[]> = {},
): Promise<ContainerSummary[]> {
  const q = encodeURIComponent(JSON.stringify(filters));
  const res = await engineRequest(socketPath, 'GET', `/containers/json?all=1&filters=${q}`);
  if (res.status !== 200) throw new Error(`list containers: ${res.status} ${res.text()}`);
  return res.json<ContainerSummary[]>();
}

/** Force-removes containers (and their anonymous volumes) carrying the label. */
export async function removeContainersByLabel(socketPath: string, label: string): Promise<number> {
  const found = await listContainers(socketPath, { label: [label] });
  for (const c of found) {
    const res = await engineRequest(socketPath, 'DELETE', `/containers/${c.Id}?force=1&v=1`);
    if (res.status !== 204 && res.status !== 404) throw new Error(`remove ${c.Id}: ${res.status} ${res.text()}`);
  }
  return found.length;
}
