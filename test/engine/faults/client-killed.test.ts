import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { clientEnv, describeResult, dockerBinary, mergedEnv, runCommand, runDocker, spawnDocker } from '../../support/docker-cli.js';
import { LABEL_ARGS, sleep, uniqueName, useDockgate } from '../../support/fixtures.js';
import { acceptedConnections, connectionsTo } from '../../support/unix-connections.js';

// A client killed in the middle of `docker cp` (upload or download) must not leave dockgate
// holding a connection to the daemon: the aborted request's upstream connection is closed.
// A leak is seen as dockgate's connection count to the daemon socket growing by one per
// aborted copy; a pool of idle keep-alive connections stays at its baseline size.

const env = useDockgate();
const docker = (args: string[]) => runDocker(env().dockgate.dockerHost, args, { timeoutMs: 120_000 });
const MIB = 1024 * 1024;

/** Waits until dockgate holds at most `max` connections to the daemon; returns the last count. */
async function settleConnections(max: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let n = await connectionsTo(env().dockgate.pid, env().dockerSocket);
  while (n > max && Date.now() < deadline) {
    await sleep(200);
    n = await connectionsTo(env().dockgate.pid, env().dockerSocket);
  }
  return n;
}

describe('client killed mid-cp', () => {
  let work: string;
  let tarball: string;
  let box: string;
  let baseline: number;

  beforeAll(async () => {
    work = await fs.mkdtemp('/tmp/dgt-kill-');
    await fs.writeFile(path.join(work, 'payload.bin'), randomBytes(32 * MIB));
    tarball = path.join(work, 'payload.tar');
    const tar = await runCommand('tar', ['-C', work, '-cf', tarball, 'payload.bin']);
    expect(tar.code, describeResult(tar)).toBe(0);

    box = uniqueName('dgt-kill');
    const run = await docker(['run', '-d', '--name', box, ...LABEL_ARGS, env().testImage, 'sh', '-c', 'mkdir /tmp/aborted && exec sleep 3600']);
    expect(run.code, describeResult(run)).toBe(0);
    // A complete copy each way first: the steady state of dockgate's upstream pool for cp traffic.
    const put = await docker(['cp', path.join(work, 'payload.bin'), `${box}:/tmp/payload.bin`]);
    expect(put.code, describeResult(put)).toBe(0);
    const get = await docker(['cp', `${box}:/tmp/payload.bin`, path.join(work, 'fetched.bin')]);
    expect(get.code, describeResult(get)).toBe(0);
    await sleep(300);
    baseline = await connectionsTo(env().dockgate.pid, env().dockerSocket);
  });

  afterAll(async () => {
    if (box) await runDocker(env().dockerHost, ['rm', '-f', box]);
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  test('upload: `docker cp - c:/tmp/aborted` killed while sending the archive', async () => {
    const head = (await fs.readFile(tarball)).subarray(0, 8 * MIB);
    const kills = Math.max(2, baseline + 1);
    for (let i = 0; i < kills; i++) {
      const cp = spawnDocker(env().dockgate.dockerHost, ['cp', '-', `${box}:/tmp/aborted/`], { stdin: 'pipe' });
      cp.child.stdin!.on('error', () => undefined);
      // Part of the archive, then nothing: the PUT is in flight, waiting for more body.
      cp.child.stdin!.write(head);
      await sleep(1_000);
      expect(cp.child.exitCode, `docker cp ended before it was killed:\n${cp.stderr()}`).toBeNull();
      cp.child.kill('SIGKILL');
      await cp.exited;
    }
    const after = await settleConnections(baseline);
    expect(after, `dockgate holds ${after} upstream connections after ${kills} aborted uploads (baseline ${baseline})`).toBeLessThanOrEqual(baseline);
  });

  test('download: `docker cp c:/file -` killed while the archive streams out', async () => {
    const kills = Math.max(2, baseline + 1);
    for (let i = 0; i < kills; i++) {
      // stdout is never read: the pipe fills, the CLI stops reading, backpressure reaches dockgate.
      const cp = spawn(dockerBinary(), ['cp', `${box}:/tmp/payload.bin`, '-'], {
        env: mergedEnv(clientEnv(env().dockgate.dockerHost)),
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const exited = new Promise((r) => cp.once('exit', r));
      await sleep(1_000);
      expect(cp.exitCode, 'docker cp ended before it was killed').toBeNull();
      cp.kill('SIGKILL');
      await exited;
      cp.stdout.destroy();
    }
    const after = await settleConnections(baseline);
    expect(after, `dockgate holds ${after} upstream connections after ${kills} aborted downloads (baseline ${baseline})`).toBeLessThanOrEqual(baseline);
  });

  test('exec -i whose process exits without reading stdin: dockgate lets go of the finished connection', async () => {
    // `head -c 5` exits at once; the CLI gets the output, its end, and exits while megabytes of
    // its stdin are still queued. dockerd itself stops reading that connection (its stdin copy
    // is stuck), so dockgate stays paused by backpressure on it unless it notices the client left.
    const { dockgate } = env();
    const r = await runDocker(dockgate.dockerHost, ['exec', '-i', box, 'head', '-c', '5'], {
      input: randomBytes(8 * MIB),
      timeoutMs: 30_000,
    });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdoutBytes.length).toBe(5);

    const deadline = Date.now() + 10_000;
    let clients = await acceptedConnections(dockgate.pid, dockgate.socketPath);
    while (clients > 0 && Date.now() < deadline) {
      await sleep(200);
      clients = await acceptedConnections(dockgate.pid, dockgate.socketPath);
    }
    expect(clients, 'connections dockgate still holds from clients that have exited').toBe(0);
    const upstream = await settleConnections(baseline);
    expect(upstream, `dockgate holds ${upstream} upstream connections (baseline ${baseline})`).toBeLessThanOrEqual(baseline);
  });

  test('dockgate still serves, and the container is intact', async () => {
    const r = await docker(['exec', box, 'sh', '-c', 'stat -c %s /tmp/payload.bin']);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe(`${32 * MIB}\n`);
  });
});
