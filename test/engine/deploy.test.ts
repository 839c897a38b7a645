import { existsSync, promises as fs, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { engineContext } from '../support/context.js';
import { DOCKGATE_IMAGE, buildDockgateImage } from '../support/deploy-images.js';
import { describeResult, runDocker, type RunResult } from '../support/docker-cli.js';
import { LABEL_ARGS, sleep, uniqueName } from '../support/fixtures.js';
import { REPO_ROOT } from '../support/repo.js';

// The container image (Dockerfile) built with the classic builder on the private daemon and run
// the way the README says: the daemon's socket mounted, its group added, dockgate's socket in a
// directory shared with the host. The image is built once for the file (the daemon caches layers).

const ctx = engineContext();
const DOCKGATE_UID = 10001;

/** Waits until a unix socket accepts connections; the container's logs explain a failure. */
async function waitForSocket(socketPath: string, container: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ path: socketPath });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) {
      const logs = await runDocker(ctx.dockerHost, ['logs', container]);
      throw new Error(`no dockgate socket at ${socketPath} after 30 s; container logs:\n${logs.stdout}${logs.stderr}`);
    }
    await sleep(100);
  }
}

// The deploy images carry public base names: they are only ever imported into the private daemon.
describe.skipIf(!ctx.privateDaemon)('container image', () => {
  const daemon = (args: string[]): Promise<RunResult> => runDocker(ctx.dockerHost, args);
  const containers: string[] = [];
  let socketDir: string;

  beforeAll(async () => {
    await buildDockgateImage(ctx.dockerHost);
    // The container's user must be able to create its socket in the shared directory.
    socketDir = await fs.mkdtemp('/tmp/dgt-dgsock-');
    await fs.chown(socketDir, DOCKGATE_UID, DOCKGATE_UID);
  });

  afterAll(async () => {
    for (const c of containers) await daemon(['rm', '-f', c]);
    if (socketDir) await fs.rm(socketDir, { recursive: true, force: true });
  });

  test('runs `dockgate serve` on Node 24 as an unprivileged user, with only production dependencies', async () => {
    const inspect = await daemon(['image', 'inspect', '--format', '{{json .Config}}', DOCKGATE_IMAGE]);
    expect(inspect.code, describeResult(inspect)).toBe(0);
    const config = JSON.parse(inspect.stdout) as { User: string; Entrypoint: string[]; Cmd: string[]; Volumes: Record<string, unknown> };
    expect(config.User).toBe(`${DOCKGATE_UID}:${DOCKGATE_UID}`);
    expect(config.Entrypoint).toEqual(['dockgate', 'serve']);
    expect(config.Cmd).toEqual(['--config', '/etc/dockgate/dockgate.yaml']);
    expect(Object.keys(config.Volumes)).toEqual(['/etc/dockgate']);

    const r = await daemon([
      'run', '--rm', ...LABEL_ARGS, '--network', 'none', '--entrypoint', 'sh', DOCKGATE_IMAGE, '-c',
      'node --version; dockgate --version; ls /app/node_modules /app/node_modules/@open-policy-agent; ls /app/policy/dist',
    ]);
    expect(r.code, describeResult(r)).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^v24\./);
    const { version } = JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(lines[1]).toBe(`dockgate ${version}`);
    expect(lines).toEqual(expect.arrayContaining(['opa-wasm', 'pino', 'yaml', 'dockgate.tar.gz']));
    for (const dev of ['typescript', 'vitest', 'dockerode', 'node', '@types']) expect(lines).not.toContain(dev);
  });

  test('serves the mounted daemon socket through its group: allows, denies with a readable message', async () => {
    const name = uniqueName('dgt-dockgate');
    const socketGid = statSync(ctx.dockerSocket).gid;
    const run = await daemon([
      'run', '-d', '--name', name, ...LABEL_ARGS, '--network', 'none',
      '--group-add', String(socketGid),
      '-v', `${ctx.dockerSocket}:/var/run/docker.sock`,
      '-v', `${socketDir}:/run/dockgate`,
      DOCKGATE_IMAGE,
    ]);
    expect(run.code, describeResult(run)).toBe(0);
    containers.push(name);
    const socket = path.join(socketDir, 'dockgate.sock');
    await waitForSocket(socket, name);

    const st = statSync(socket);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.uid).toBe(DOCKGATE_UID);
    const id = await daemon(['exec', name, 'id']);
    expect(id.stdout).toMatch(new RegExp(`^uid=${DOCKGATE_UID}\\b.*\\bgroups=.*\\b${socketGid}\\b`));

    const viaImage = `unix://${socket}`;
    const ok = await runDocker(viaImage, ['run', '--rm', ...LABEL_ARGS, ctx.testImage, 'echo', 'through-the-image']);
    expect(ok.code, describeResult(ok)).toBe(0);
    expect(ok.stdout).toBe('through-the-image\n');

    const denied = await runDocker(viaImage, ['run', '--rm', ...LABEL_ARGS, '--privileged', ctx.testImage, 'true']);
    expect(denied.code, describeResult(denied)).not.toBe(0);
    expect(denied.stderr).toMatch(/dockgate: privileged: /);
    expect(existsSync(socket)).toBe(true);
  });
});
