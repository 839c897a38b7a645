import { randomBytes } from 'node:crypto';
import { PassThrough, type Duplex } from 'node:stream';
import Docker from 'dockerode';
import { describe, expect, test } from 'vitest';
import { sha256, useDockgate } from '../support/fixtures.js';

// dockerode (docker-modem) through dockgate. Its hijacked attach is a POST with
// `Transfer-Encoding: chunked` + `Connection: Upgrade` whose body never ends: after the 101 the
// same connection carries raw stdin, and ending it must reach the container as EOF.

const env = useDockgate();
const LABELS = { 'dockgate.test': '1' };

function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks).toString('utf8');
}

function ended(stream: NodeJS.ReadableStream, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stream did not end within ${timeoutMs} ms`)), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe('dockerode through dockgate', () => {
  const client = () => new Docker({ socketPath: env().dockgate.socketPath });

  test('create, hijacked attach with stdin, start, wait', async () => {
    const docker = client();
    const container = await docker.createContainer({
      Image: env().testImage,
      Cmd: ['sh', '-c', 'read a; read b; echo "got:$a:$b"; cat; echo stderr-$((6*7)) >&2; exit 6'],
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Labels: LABELS,
    });
    try {
      const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const out = collect(stdout);
      const err = collect(stderr);
      docker.modem.demuxStream(stream, stdout, stderr);
      const streamEnd = ended(stream, 30_000);

      await container.start();
      stream.write('x\ny\nrest-of-input\n');
      // Half-close: with StdinOnce the daemon closes the container's stdin, so `cat` ends.
      stream.end();

      const result = (await container.wait()) as { StatusCode: number };
      await streamEnd;
      expect(result.StatusCode).toBe(6);
      expect(out()).toBe('got:x:y\nrest-of-input\n');
      expect(err()).toBe('stderr-42\n');
    } finally {
      await container.remove({ force: true });
    }
  });

  test('exec with a hijacked start carries 1 MiB of stdin and returns its digest', async () => {
    const docker = client();
    const container = await docker.createContainer({ Image: env().testImage, Cmd: ['sleep', '600'], Labels: LABELS });
    try {
      await container.start();
      const exec = await container.exec({ Cmd: ['sha256sum'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
      const stream = (await exec.start({ hijack: true, stdin: true })) as Duplex;
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const out = collect(stdout);
      docker.modem.demuxStream(stream, stdout, stderr);
      const streamEnd = ended(stream, 30_000);

      const data = randomBytes(1024 * 1024);
      stream.end(data);
      await streamEnd;
      expect(out()).toBe(`${sha256(data)}  -\n`);
      const inspected = await exec.inspect();
      expect(inspected.ExitCode).toBe(0);
      expect(inspected.Running).toBe(false);
    } finally {
      await container.remove({ force: true });
    }
  });

  test('a daemon error reaches dockerode with its status and message', async () => {
    const err = (await client()
      .getContainer('dockgate-test-no-such-container')
      .inspect()
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as { statusCode?: number; message?: string } | undefined;
    expect(err?.statusCode).toBe(404);
    expect(err?.message).toMatch(/No such container: dockgate-test-no-such-container/);
  });
});
