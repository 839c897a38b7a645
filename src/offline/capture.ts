// `dockgate eval --compose FILE` and `dockgate eval -- docker run …`: run the real client against
// a capture socket and judge what it sends, instead of re-implementing compose's or the CLI's
// translation of flags into API requests. The socket behaves like dockgate in front of an empty
// daemon (fake-daemon.ts): each request is judged by the proxy's gate as it arrives; a refused
// one gets dockgate's error (so the client stops where it would stop), an allowed one reaches the
// fake daemon with the mutated body (so later lookups see what dockerd would have stored).
import { spawn } from 'node:child_process';
import { accessSync, constants, promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import http from '../runtime/node-http.js';
import type { Socket } from 'node:net';
import path from 'node:path';
import type { InspectClient } from '../admission/lookup.js';
import type { JsonValue } from '../policy/contract.js';
import { sendDockerError, writeDockerErrorToSocket } from '../proxy/docker-error.js';
import { FakeDaemon, type FakeAnswer } from './fake-daemon.js';
import { OfflineJudge, type JudgedRequest, type JudgeSetup } from './judge.js';
import { OfflineLookups } from './lookups.js';

export class CaptureError extends Error {}

export interface ClientRun {
  /** The command as run. */
  command: string[];
  exitCode: number | null;
  signal: string | null;
  /** What the client printed (its errors include dockgate's refusals, as users would see them). */
  stdout: string;
  stderr: string;
}

export interface CaptureResult {
  client: ClientRun;
  requests: JudgedRequest[];
}

export interface CaptureOptions extends Omit<JudgeSetup, 'lookups'> {
  /** API version the capture daemon announces (clients negotiate down to it). */
  apiVersion: string;
  /** Asked for objects the session did not create; without it the daemon starts empty. */
  daemon?: InspectClient;
  showInput?: boolean;
  /** Cut the client after this long (it may be waiting for something the fake cannot give). */
  timeoutMs?: number;
}

const VERSION_PREFIX = /^\/v[0-9.]+(?=\/)/;

/** Finds an executable on PATH (the docker CLI prefers /usr/local/bin/docker like the tests). */
export function findExecutable(name: string, preferred: string[] = []): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== '');
  for (const candidate of [...preferred, ...dirs.map((d) => path.join(d, name))]) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  return undefined;
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function parseJson(body: Buffer | null): JsonValue | undefined {
  if (!body || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as JsonValue;
  } catch {
    return undefined;
  }
}

function writeAnswer(res: ServerResponse, answer: FakeAnswer, apiVersion: string, rewrite?: (status: number, body: unknown) => unknown): void {
  const headers: Record<string, string> = { 'Api-Version': apiVersion, 'Docker-Experimental': 'false', Ostype: 'linux', Server: 'dockgate-eval', ...answer.headers };
  let payload: string | undefined = answer.text;
  if (answer.json !== undefined) {
    const json = rewrite ? rewrite(answer.status, answer.json) : answer.json;
    payload = JSON.stringify(json);
    headers['Content-Type'] = 'application/json';
  } else if (answer.contentType) headers['Content-Type'] = answer.contentType;
  if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
  res.writeHead(answer.status, headers);
  res.end(payload);
}

/** Runs `command` with DOCKER_HOST on a capture socket; resolves when the client has exited. */
export async function captureClient(command: string[], opts: CaptureOptions): Promise<CaptureResult> {
  const fake = new FakeDaemon(opts.apiVersion);
  // What the session created wins; an object it does not know is asked of --docker-host (that is
  // what the flag is for: pre-existing volumes, containers), else it does not exist.
  const lookups = new OfflineLookups(
    (p) => {
      const answer = fake.inspect(p);
      return answer.found && answer.body === null && opts.daemon ? { found: false, body: undefined } : answer;
    },
    opts.daemon,
    'the capture daemon cannot answer it',
  );
  const judge = new OfflineJudge({ ...opts, lookups });
  const requests: JudgedRequest[] = [];

  const server = http.createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const { result, verdict } = await judge.judge({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: body.length > 0 ? body : null }, opts.showInput);
      requests.push(result);
      if (verdict.action === 'refuse') return sendDockerError(res, verdict.status, verdict.message);
      const url = new URL(verdict.target, 'http://capture');
      const forwarded = verdict.body ?? body;
      const answer = fake.handle(req.method ?? 'GET', url.pathname.replace(VERSION_PREFIX, ''), url.searchParams, parseJson(forwarded));
      writeAnswer(res, answer, opts.apiVersion, verdict.rewrite);
    })().catch((err: unknown) => sendDockerError(res, 500, `dockgate eval: ${(err as Error).message}`));
  });
  // attach / exec start: judged like any request, then a raw stream that ends at once.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    void (async () => {
      const { result, verdict } = await judge.judge({ method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body: head.length > 0 ? head : null }, opts.showInput);
      requests.push(result);
      if (verdict.action === 'refuse') return writeDockerErrorToSocket(socket, verdict.status, verdict.message);
      socket.end('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    })().catch(() => socket.destroy());
  });

  const dir = await fs.mkdtemp('/tmp/dockgate-eval-');
  const socketPath = path.join(dir, 'docker.sock');
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    const client = await runClient(command, `unix://${socketPath}`, opts.timeoutMs ?? 120_000);
    return { client, requests };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function runClient(command: string[], dockerHost: string, timeoutMs: number): Promise<ClientRun> {
  const [program, ...args] = command;
  if (!program) throw new CaptureError('no client command given');
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: dockerHost };
  // Settings that would send the client elsewhere or pin another API version.
  for (const name of ['DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_API_VERSION', 'COMPOSE_API_VERSION']) delete env[name];
  return new Promise((resolve, reject) => {
    // stdin: the terminal when there is one (`docker run -it` insists on a TTY), else nothing.
    const child = spawn(program, args, { env, stdio: [process.stdin.isTTY ? 'inherit' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new CaptureError(`cannot run ${program}: ${e.message}`));
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ command, exitCode, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}
