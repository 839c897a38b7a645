import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { describeResult, runDocker, type RunOptions } from '../support/docker-cli.js';
import { LABEL_ARGS, sha256, uniqueName, useDockgate } from '../support/fixtures.js';

// `docker build` with the classic builder: POST /build streams the tar context up while the
// daemon streams progress down, then the built image must contain exactly what was sent.

const env = useDockgate();
const docker = (args: string[], opts?: RunOptions) => runDocker(env().dockgate.dockerHost, args, opts);

describe('docker build (classic builder) through dockgate', () => {
  let context: string;
  const tag = `dockgate-test/built:${uniqueName('t')}`;
  const payload = randomBytes(512 * 1024);

  beforeAll(async () => {
    context = await fs.mkdtemp('/tmp/dgt-build-');
    await fs.writeFile(path.join(context, 'payload.bin'), payload);
    await fs.writeFile(path.join(context, 'ignored.txt'), 'must not be sent\n');
    await fs.writeFile(path.join(context, '.dockerignore'), 'ignored.txt\n');
    await fs.writeFile(
      path.join(context, 'Dockerfile'),
      [
        `FROM ${env().testImage}`,
        'COPY payload.bin /payload.bin',
        'RUN sha256sum /payload.bin > /payload.sha && echo built-$((6*7)) > /built',
        'CMD ["cat", "/built"]',
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await docker(['rmi', '-f', tag]);
    if (context) await fs.rm(context, { recursive: true, force: true });
  });

  test('builds from a context, streaming the build output', async () => {
    const r = await docker(['build', '-t', tag, context], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(/Step 3\/4 : RUN sha256sum/);
    expect(r.stdout).toContain(`Successfully tagged ${tag}`);
  });

  test('the built image holds the context files and the RUN result', async () => {
    const r = await docker(['run', '--rm', ...LABEL_ARGS, tag, 'sh', '-c', 'cat /built /payload.sha; ls /ignored.txt 2>&1 || true']);
    expect(r.code, describeResult(r)).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('built-42');
    expect(lines[1]).toBe(`${sha256(payload)}  /payload.bin`);
    expect(lines[2]).toMatch(/No such file or directory/);

    const cmd = await docker(['run', '--rm', ...LABEL_ARGS, tag]);
    expect(cmd.stdout).toBe('built-42\n');
  });

  test('a failing RUN step fails the build with its exit code in the output', async () => {
    const bad = await fs.mkdtemp('/tmp/dgt-build-bad-');
    try {
      await fs.writeFile(path.join(bad, 'Dockerfile'), `FROM ${env().testImage}\nRUN echo about-to-fail && exit 13\n`);
      const r = await docker(['build', '--force-rm', '-t', `${tag}-bad`, bad], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });
      expect(r.code, describeResult(r)).not.toBe(0);
      expect(r.stdout).toContain('about-to-fail');
      expect(r.stderr).toMatch(/returned a non-zero code: 13/);
    } finally {
      await fs.rm(bad, { recursive: true, force: true });
    }
  });
});
