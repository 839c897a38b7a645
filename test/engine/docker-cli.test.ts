import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { describeResult, runDocker, runDockerInPty, spawnDocker, type RunOptions } from '../support/docker-cli.js';
import { engineRequest, listContainers } from '../support/engine-api.js';
import { LABEL_ARGS, sha256, uniqueName, useDockgate } from '../support/fixtures.js';

// The docker CLI through dockgate: every command is asserted on what the CLI prints and on the
// daemon's state, so a proxy that drops bytes, misses a half-close or buffers a stream fails here.

const env = useDockgate();

const docker = (args: string[], opts?: RunOptions) => runDocker(env().dockgate.dockerHost, args, opts);
const image = () => env().testImage;

/** Starts a detached container through dockgate and returns its name. */
async function runDetached(prefix: string, extra: string[], cmd: string[]): Promise<string> {
  const name = uniqueName(prefix);
  const r = await docker(['run', '-d', '--name', name, ...LABEL_ARGS, ...extra, image(), ...cmd]);
  expect(r.code, describeResult(r)).toBe(0);
  return name;
}

describe('docker CLI through dockgate', () => {
  test('version: the CLI negotiates the same API version as with the daemon directly', async () => {
    const format = ['version', '--format', '{{.Server.APIVersion}} {{.Server.Version}} {{.Client.APIVersion}}'];
    const via = await docker(format);
    const direct = await runDocker(env().dockerHost, format);
    expect(via.code, describeResult(via)).toBe(0);
    expect(direct.code, describeResult(direct)).toBe(0);
    expect(via.stdout).toBe(direct.stdout);
    expect(via.stdout).toMatch(/^1\.\d+ \S+ 1\.\d+\n$/);
  });

  test('run --rm prints stdout and stderr and removes the container', async () => {
    const name = uniqueName('dgt-run');
    const r = await docker(['run', '--rm', '--name', name, ...LABEL_ARGS, image(), 'sh', '-c', 'echo out-$((6*7)); echo err-$((6*8)) >&2']);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe('out-42\n');
    expect(r.stderr).toContain('err-48\n');
    expect(await listContainers(env().dockerSocket, { name: [`^/${name}$`] })).toEqual([]);
  });

  test('run --rm returns the exit code of the container', async () => {
    const r = await docker(['run', '--rm', ...LABEL_ARGS, image(), 'sh', '-c', 'exit 7']);
    expect(r.code, describeResult(r)).toBe(7);
  });

  test('run -i passes piped stdin to the container', async () => {
    const r = await docker(['run', '-i', '--rm', ...LABEL_ARGS, image(), 'cat'], { input: 'hello\n' });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe('hello\n');
  });

  test('run -i carries 4 MiB of binary stdin byte-exact and delivers EOF', async () => {
    const data = randomBytes(4 * 1024 * 1024);
    const r = await docker(['run', '-i', '--rm', ...LABEL_ARGS, image(), 'sha256sum'], { input: data });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe(`${sha256(data)}  -\n`);
  });

  test('run -t gives the container a terminal (pseudo-terminal client)', async () => {
    const r = await runDockerInPty(env().dockgate.dockerHost, [
      'run', '-t', '--rm', ...LABEL_ARGS, image(), 'sh', '-c', 'tty; echo tty-$((6*7)); exit 3',
    ]);
    expect(r.code, describeResult(r)).toBe(3);
    // Two terminals (the container's and script's) each turn \n into \r\n.
    const lines = r.stdout.replace(/\r+\n/g, '\n');
    expect(lines).toMatch(/^\/dev\/pts\/\d+\ntty-42\n$/);
  });

  describe('exec into a running container', () => {
    let box: string;
    beforeAll(async () => {
      box = await runDetached('dgt-exec', [], ['sleep', '600']);
    });
    afterAll(async () => {
      if (box) await docker(['rm', '-f', box]);
    });

    test('exec without -i returns the complete output', async () => {
      const r = await docker(['exec', box, 'sh', '-c', 'echo err-line >&2; seq 1 20000']);
      expect(r.code, describeResult(r)).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.length).toBe(20000);
      expect(lines[0]).toBe('1');
      expect(lines[19999]).toBe('20000');
      expect(r.stderr).toBe('err-line\n');
    });

    test('exec -i: the end of piped stdin reaches the process', async () => {
      const r = await docker(['exec', '-i', box, 'wc', '-l'], { input: 'a\nb\n', timeoutMs: 30_000 });
      expect(r.code, describeResult(r)).toBe(0);
      expect(r.stdout.trim()).toBe('2');
    });

    test('exec -i carries 2 MiB of binary stdin byte-exact', async () => {
      const data = randomBytes(2 * 1024 * 1024);
      const r = await docker(['exec', '-i', box, 'sha256sum'], { input: data, timeoutMs: 30_000 });
      expect(r.code, describeResult(r)).toBe(0);
      expect(r.stdout).toBe(`${sha256(data)}  -\n`);
    });

    test('exec -i: a process that exits before reading all stdin ends the command', async () => {
      // The daemon closes its side while the client is still sending: no hang, no lost output.
      const r = await docker(['exec', '-i', box, 'head', '-c', '5'], { input: randomBytes(8 * 1024 * 1024), timeoutMs: 30_000 });
      expect(r.code, describeResult(r)).toBe(0);
      expect(r.stdoutBytes.length).toBe(5);
    });

    test('exec returns the exit code of the process', async () => {
      const r = await docker(['exec', box, 'sh', '-c', 'exit 9']);
      expect(r.code, describeResult(r)).toBe(9);
    });

    test('exec -it runs an interactive shell in a terminal (pseudo-terminal client)', async () => {
      const r = await runDockerInPty(env().dockgate.dockerHost, ['exec', '-it', box, 'sh'], {
        input: 'tty\necho exec-$((6*7))\nexit 5\n',
        timeoutMs: 30_000,
      });
      expect(r.code, describeResult(r)).toBe(5);
      const lines = r.stdout.replace(/\r+\n/g, '\n');
      expect(lines).toMatch(/^\/dev\/pts\/\d+$/m);
      expect(lines).toMatch(/^exec-42$/m);
    });
  });

  test('attach to a running container shows its output and returns its exit code', async () => {
    const name = await runDetached('dgt-attach', [], [
      'sh', '-c', 'i=0; while [ ! -e /tmp/stop ]; do echo tick-$i; i=$((i+1)); sleep 0.2; done; echo bye-$((6*7)); exit 3',
    ]);
    const attach = spawnDocker(env().dockgate.dockerHost, ['attach', '--no-stdin', name]);
    await attach.waitForOutput(/tick-\d+\n/, 20_000);
    const touched = await docker(['exec', name, 'touch', '/tmp/stop']);
    expect(touched.code, describeResult(touched)).toBe(0);
    const r = await attach.result(30_000);
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stdout).toMatch(/tick-\d+\n(tick-\d+\n)*bye-42\n$/);
  });

  test('attach with stdin to a container that reads it', async () => {
    const name = await runDetached('dgt-attach-in', ['-i'], ['sh', '-c', 'read line; echo got-$line; exit 4']);
    // stdin stays open until the answer is seen: the CLI itself (also straight at the daemon)
    // drops the output when its stdin ends before the container has answered.
    const attach = spawnDocker(env().dockgate.dockerHost, ['attach', name], { stdin: 'pipe' });
    attach.child.stdin!.write('hello-attach\n');
    await attach.waitForOutput(/got-hello-attach\n/, 20_000);
    attach.child.stdin!.end();
    const r = await attach.result(30_000);
    expect(r.code, describeResult(r)).toBe(4);
    expect(r.stdout).toBe('got-hello-attach\n');
  });

  test('logs -f follows a running container and ends when it exits', async () => {
    const name = await runDetached('dgt-logs', [], [
      'sh', '-c', 'echo log-ready; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo log-done-$((6*7)); exit 0',
    ]);
    const logs = spawnDocker(env().dockgate.dockerHost, ['logs', '-f', name]);
    await logs.waitForOutput(/log-ready\n/, 20_000);
    const touched = await docker(['exec', name, 'touch', '/tmp/go']);
    expect(touched.code, describeResult(touched)).toBe(0);
    const r = await logs.result(30_000);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe('log-ready\nlog-done-42\n');
  });

  test('events --since/--until returns the bounded history and ends by itself', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const name = uniqueName('dgt-events');
    const run = await docker(['run', '--rm', '--name', name, ...LABEL_ARGS, image(), 'true']);
    expect(run.code, describeResult(run)).toBe(0);
    const until = Math.ceil(Date.now() / 1000) + 1;
    const r = await docker(
      ['events', '--since', String(since), '--until', String(until), '--filter', `container=${name}`, '--format', '{{.Type}} {{.Action}}'],
      { timeoutMs: 30_000 },
    );
    expect(r.code, describeResult(r)).toBe(0);
    const events = r.stdout.trim().split('\n');
    expect(events).toEqual(expect.arrayContaining(['container create', 'container start', 'container die', 'container destroy']));
    expect(events.every((e) => e.startsWith('container '))).toBe(true);
  });

  test('ps, inspect, wait and rm -f', async () => {
    const name = await runDetached('dgt-wait', [], ['sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 7']);

    const ps = await docker(['ps', '--filter', `name=^${name}$`, '--format', '{{.Names}} {{.State}} {{.Image}}']);
    expect(ps.code, describeResult(ps)).toBe(0);
    expect(ps.stdout).toBe(`${name} running ${image()}\n`);

    const inspect = await docker(['inspect', '--format', '{{.State.Running}} {{index .Config.Labels "dockgate.test"}} {{.Name}}', name]);
    expect(inspect.code, describeResult(inspect)).toBe(0);
    expect(inspect.stdout).toBe(`true 1 /${name}\n`);

    const waiting = docker(['wait', name], { timeoutMs: 30_000 });
    const touched = await docker(['exec', name, 'touch', '/tmp/go']);
    expect(touched.code, describeResult(touched)).toBe(0);
    const waited = await waiting;
    expect(waited.code, describeResult(waited)).toBe(0);
    expect(waited.stdout).toBe('7\n');

    const exited = await docker(['ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.State}}']);
    expect(exited.stdout).toBe('exited\n');

    const running = await runDetached('dgt-rmf', [], ['sleep', '600']);
    for (const target of [name, running]) {
      const rm = await docker(['rm', '-f', target]);
      expect(rm.code, describeResult(rm)).toBe(0);
      expect(rm.stdout).toBe(`${target}\n`);
      const atDaemon = await engineRequest(env().dockerSocket, 'GET', `/containers/${target}/json`);
      expect(atDaemon.status).toBe(404);
    }
  });
});
