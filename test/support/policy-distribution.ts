import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { startDockgate, type Dockgate } from './dockgate.js';
import { engineRequest } from './engine-api.js';
import { sleep } from './fixtures.js';
import { ALLOW_ALL_BUNDLE } from './policy-bundle.js';
import { DENY_PRIVILEGED_BUNDLE } from './security.js';

// Helpers of the policy distribution tests: which of the two test policies is in force, a steady
// flow of requests through dockgate, and bundle files replaced the way deployment tools do it.

export { ALLOW_ALL_BUNDLE, DENY_PRIVILEGED_BUNDLE };

// An image that does not exist: an admitted create gets the daemon's 404 and creates nothing.
const MISSING_IMAGE = 'dockgate-test/no-such-image:reload';

export function createBody(privileged: boolean): string {
  return JSON.stringify({ Image: MISSING_IMAGE, Cmd: ['true'], HostConfig: { Privileged: privileged } });
}

/**
 * Which policy judged a privileged create: the deny-privileged one refuses it (403, its rule),
 * the allow-all one lets it through to the daemon (404, no such image).
 */
export async function policyInForce(socketPath: string): Promise<'deny-privileged' | 'allow-all' | string> {
  const res = await engineRequest(socketPath, 'POST', '/v1.41/containers/create', { body: createBody(true) });
  if (res.status === 403 && res.text().includes('no-privileged')) return 'deny-privileged';
  if (res.status === 404 && /no such image/i.test(res.text())) return 'allow-all';
  return `unexpected ${res.status}: ${res.text().slice(0, 300)}`;
}

/** Polls `probe` until it returns `want`; returns the last answer (the caller asserts it). */
export async function waitForAnswer<T>(probe: () => Promise<T>, want: T, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (last !== want && Date.now() < deadline) {
    await sleep(100);
    last = await probe();
  }
  return last;
}

/** Copies `src` over `dest` by rename, as deployment tools replace files (atomic for readers). */
export async function replaceFile(dest: string, src: string): Promise<void> {
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.tmp`);
  await fs.copyFile(src, tmp);
  await fs.rename(tmp, dest);
}

export interface LoadResult {
  ok: number;
  failures: string[];
}

/**
 * Requests in a loop until stopped, half on one kept-alive connection (a reload must not drop it),
 * half on fresh ones: pings, a judged list, and a judged non-privileged create that both test
 * policies admit (the daemon answers 404 for the missing image).
 */
export function startLoad(socketPath: string, workers = 3): { stop(): Promise<LoadResult> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const result: LoadResult = { ok: 0, failures: [] };
  let running = true;
  const requests: { method: string; path: string; body?: string; want: number }[] = [
    { method: 'GET', path: '/_ping', want: 200 },
    { method: 'GET', path: '/v1.41/containers/json?all=1', want: 200 },
    { method: 'POST', path: '/v1.41/containers/create', body: createBody(false), want: 404 },
  ];
  const viaAgent = (r: (typeof requests)[number]) =>
    new Promise<number>((resolve, reject) => {
      const headers: Record<string, string | number> = { Host: 'docker' };
      if (r.body) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(r.body) });
      const req = http.request({ socketPath, method: r.method, path: r.path, headers, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(r.body);
    });
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      const r = requests[(i + w) % requests.length]!;
      try {
        const status = w % 2 === 0 ? await viaAgent(r) : (await engineRequest(socketPath, r.method, r.path, r.body ? { body: r.body } : {})).status;
        if (status === r.want) result.ok++;
        else result.failures.push(`${r.method} ${r.path}: status ${status}`);
      } catch (err) {
        result.failures.push(`${r.method} ${r.path}: ${(err as Error).message}`);
      }
    }
  };
  const all = Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  return {
    async stop() {
      running = false;
      await all;
      agent.destroy();
      return result;
    },
  };
}

/** What one test started: a dockgate and/or the server it talks to (bundle server, log collector). */
export interface StartedInTest {
  gate?: ConfiguredDockgate;
  server?: { close(): Promise<unknown> };
  collector?: { close(): Promise<unknown> };
}

/**
 * Registers the file's hooks for what its tests push into `running`: a failed test prints each
 * dockgate's recent log; at the end, everything is stopped newest first (dockgate before its server).
 */
export function stopAfterTests(running: StartedInTest[]): void {
  afterEach((t) => {
    if (t.task.result?.state !== 'fail') return;
    for (const r of running) if (r.gate) console.log(`--- dockgate log:\n${r.gate.dockgate.logs().slice(-6000)}`);
  });
  afterAll(async () => {
    for (const r of [...running].reverse()) {
      await r.gate?.stop();
      await r.server?.close();
      await r.collector?.close();
    }
  });
}

export interface ConfiguredDockgate {
  dockgate: Dockgate;
  dir: string;
  /** dockgate's JSON log lines so far. */
  logLines(): Record<string, unknown>[];
  stop(): Promise<void>;
}

/**
 * dockgate with a config file (JSON is YAML) and `files` beside it in a fresh directory; `--listen`
 * replaces the config's listeners; `admin` serves /metrics and /readyz (dockgate.adminSocket).
 */
export async function startWithConfig(
  upstream: string,
  config: Record<string, unknown>,
  { files = {}, admin = false }: { files?: Record<string, string>; admin?: boolean } = {},
): Promise<ConfiguredDockgate> {
  const dir = await fs.mkdtemp('/tmp/dgg-cfg-');
  const file = path.join(dir, 'dockgate.yaml');
  await fs.writeFile(file, JSON.stringify(config, null, 2));
  for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(dir, name), text);
  try {
    const dockgate = await startDockgate({ upstream, policy: null, admin, extraArgs: ['--config', file] });
    return {
      dockgate,
      dir,
      logLines: () => logLines(dockgate),
      async stop() {
        await dockgate.stop();
        await fs.rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export function logLines(dockgate: Dockgate): Record<string, unknown>[] {
  return dockgate
    .logs()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
