import { existsSync, promises as fs, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { engineContext } from '../support/context.js';
import { DOCKGATE_IMAGE, RUNNER_IMAGE, buildDockgateImage, importRunnerImage } from '../support/deploy-images.js';
import { LABEL_ARGS, sha256File, sleep, uniqueName } from '../support/fixtures.js';
import { clientEnv, describeResult, runCommand, runDocker, type RunResult } from '../support/docker-cli.js';
import { engineRequest } from '../support/engine-api.js';
import { REPO_ROOT } from '../support/repo.js';

// The container image (Dockerfile) built with the classic builder on the private daemon and run
// the way the README says: the daemon's socket mounted, its group added, dockgate's socket in a
// directory shared with the host; then the CI-runner sidecar (deploy/compose) with that image and
// a runner holding the docker CLI. The image is built once for the file.

const ctx = engineContext();
const DOCKGATE_UID = 10001;
const COMPOSE = process.env.DOCKGATE_TEST_COMPOSE ?? '/usr/bin/docker-compose';
const daemon = (args: string[]): Promise<RunResult> => runDocker(ctx.dockerHost, args);

/**
 * Waits until dockgate in `container` has logged that it listens on `inContainer` (it does so after
 * setting the socket's mode and owner) and `socketPath`, the same socket seen from the host,
 * accepts connections. The container's logs explain a failure.
 */
async function waitForSocket(socketPath: string, inContainer: string, container: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const logs = await runDocker(ctx.dockerHost, ['logs', container]);
    const listening = `${logs.stdout}${logs.stderr}`.includes(`dockgate listening; use DOCKER_HOST=unix://${inContainer}`);
    const ok =
      listening &&
      (await new Promise<boolean>((resolve) => {
        const s = net.connect({ path: socketPath });
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      }));
    if (ok) return;
    if (Date.now() > deadline) {
      throw new Error(`no dockgate socket at ${socketPath} after 30 s; container logs:\n${logs.stdout}${logs.stderr}`);
    }
    await sleep(100);
  }
}

// The deploy images carry public base names: they are only ever imported into the private daemon.
describe.skipIf(!ctx.privateDaemon)('deployment', () => {
beforeAll(() => buildDockgateImage(ctx.dockerHost));

describe('container image', () => {
  const containers: string[] = [];
  let socketDir: string;

  beforeAll(async () => {
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
    const config = JSON.parse(inspect.stdout) as {
      User: string;
      Entrypoint: string[];
      Cmd: string[];
      Volumes: Record<string, unknown>;
      Healthcheck: { Test: string[] };
    };
    expect(config.User).toBe(`${DOCKGATE_UID}:${DOCKGATE_UID}`);
    expect(config.Entrypoint).toEqual(['dockgate', 'serve']);
    expect(config.Cmd).toEqual(['--config', '/etc/dockgate/dockgate.yaml']);
    expect(Object.keys(config.Volumes)).toEqual(['/etc/dockgate']);
    expect(config.Healthcheck.Test.join(' ')).toContain('http://127.0.0.1:9323/healthz');

    const r = await daemon([
      'run', '--rm', ...LABEL_ARGS, '--network', 'none', '--entrypoint', 'sh', DOCKGATE_IMAGE, '-c',
      'node --version; dockgate --version; ls /app/node_modules /app/node_modules/@open-policy-agent; ls /app/policy/dist; dockgate check-config /etc/dockgate/dockgate.yaml',
    ]);
    expect(r.code, describeResult(r)).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^v24\./);
    const { version } = JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(lines[1]).toBe(`dockgate ${version}`);
    expect(lines).toEqual(expect.arrayContaining(['opa-wasm', 'pino', 'yaml', 'dockgate.tar.gz']));
    expect(r.stdout).toMatch(/^\/etc\/dockgate\/dockgate\.yaml: valid /m);
    for (const dev of ['typescript', 'vitest', 'dockerode', 'node', '@types']) expect(lines).not.toContain(dev);
  });

  // The default target builds opa from tools/opa inside the image (minutes on a small machine),
  // so CI skips it; CI proves the same bundle rebuilds from source (build-policy.sh --check).
  test.runIf(process.env.DOCKGATE_TEST_IMAGE_BUNDLES === '1')(
    'the default target compiles the bundle with the pinned opa, byte for byte the committed one (DOCKGATE_TEST_IMAGE_BUNDLES=1)',
    { timeout: 1_500_000 },
    async () => {
      const tag = 'dockgate-test/dockgate:compiled';
      await buildDockgateImage(ctx.dockerHost, { target: 'runtime', tag });
      const r = await daemon(['run', '--rm', ...LABEL_ARGS, '--network', 'none', '--entrypoint', 'sha256sum', tag, '/app/policy/dist/dockgate.tar.gz']);
      expect(r.code, describeResult(r)).toBe(0);
      expect(r.stdout.split(' ')[0]).toBe(await sha256File(path.join(REPO_ROOT, 'policy', 'dist', 'dockgate.tar.gz')));
    },
  );

  test('serves the mounted daemon socket through its group: allows, denies with a readable message', async () => {
    const name = uniqueName('dgt-dockgate');
    const socketGid = statSync(ctx.dockerSocket).gid;
    const run = await daemon([
      'run', '-d', '--name', name, ...LABEL_ARGS, '--network', 'none',
      '--group-add', String(socketGid),
      // The image's HEALTHCHECK, run sooner than its 30 s interval.
      '--health-interval', '1s',
      '-v', `${ctx.dockerSocket}:/var/run/docker.sock`,
      '-v', `${socketDir}:/run/dockgate`,
      DOCKGATE_IMAGE,
    ]);
    expect(run.code, describeResult(run)).toBe(0);
    containers.push(name);
    const socket = path.join(socketDir, 'dockgate.sock');
    await waitForSocket(socket, '/run/dockgate/dockgate.sock', name);

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

    // HEALTHCHECK: the admin listener's /healthz on the container's loopback.
    const deadline = Date.now() + 30_000;
    let health = '';
    while (Date.now() < deadline) {
      health = (await daemon(['inspect', '--format', '{{.State.Health.Status}}', name])).stdout.trim();
      if (health !== 'starting') break;
      await sleep(250);
    }
    expect(health).toBe('healthy');
  });
});

describe('CI-runner sidecar (deploy/compose)', () => {
  const project = uniqueName('dgtside').replace('-', '');
  const composeFile = path.join(REPO_ROOT, 'deploy', 'compose', 'docker-compose.yml');
  let work: string;
  let workspace: string;
  let runner: string;

  // The shipped file as an operator runs it (against the daemon), with the test's images and
  // daemon socket, and a runner that only waits for commands (no network on this daemon).
  const compose = (args: string[]): Promise<RunResult> =>
    runCommand(COMPOSE, ['-p', project, '-f', composeFile, '-f', path.join(work, 'override.yml'), ...args], {
      env: clientEnv(ctx.dockerHost, {
        COMPOSE_INTERACTIVE_NO_CLI: '1',
        DOCKGATE_IMAGE,
        RUNNER_IMAGE,
        DOCKER_GID: String(statSync(ctx.dockerSocket).gid),
        DOCKER_SOCKET: ctx.dockerSocket,
        WORKSPACE: workspace,
      }),
      timeoutMs: 120_000,
    });
  /** The docker CLI inside the runner: DOCKER_HOST there is dockgate's socket. */
  const inRunner = (args: string[]): Promise<RunResult> => daemon(['exec', runner, 'docker', ...args]);
  const atDaemon = (p: string) => engineRequest(ctx.dockerSocket, 'GET', p);

  beforeAll(async () => {
    await importRunnerImage(ctx.dockerHost);
    work = await fs.mkdtemp('/tmp/dgt-side-');
    workspace = path.join(work, 'workspace');
    await fs.mkdir(workspace);
    await fs.writeFile(path.join(workspace, 'checkout.txt'), 'job source\n');
    await fs.writeFile(
      path.join(work, 'override.yml'),
      `services:
  dockgate:
    labels: { dockgate.test: "1" }
  runner:
    network_mode: none
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
    labels: { dockgate.test: "1" }
`,
    );
    const up = await compose(['up', '-d']);
    expect(up.code, describeResult(up)).toBe(0);
    const ps = await compose(['ps', '-q', 'runner']);
    runner = ps.stdout.trim();
    expect(runner, describeResult(ps)).toMatch(/^[0-9a-f]{64}$/);
    // The runner may be up before dockgate listens.
    const deadline = Date.now() + 30_000;
    while ((await inRunner(['version', '--format', '{{.Server.Version}}'])).code !== 0) {
      if (Date.now() > deadline) throw new Error(`dockgate's socket never answered in the runner:\n${(await compose(['logs', 'dockgate'])).stdout}`);
      await sleep(200);
    }
  });

  afterAll(async () => {
    if (work) {
      await compose(['down', '-v', '--timeout', '1']);
      await fs.rm(work, { recursive: true, force: true });
    }
  });

  test('the runner has no daemon socket, only dockgate\'s', async () => {
    const r = await daemon(['exec', runner, 'sh', '-c', 'echo "$DOCKER_HOST"; ls /var/run/docker.sock /run/docker.sock 2>&1; true']);
    expect(r.stdout.split('\n')[0]).toBe('unix:///run/dockgate/dockgate.sock');
    expect(r.stdout.match(/No such file or directory/g)).toHaveLength(2);
  });

  test('an allowed `docker run` from the runner runs, with the ci profile applied', async () => {
    const name = uniqueName('dgt-job');
    const r = await inRunner(['run', '--name', name, ...LABEL_ARGS, ctx.testImage, 'echo', 'job-ran']);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toBe('job-ran\n');
    const c = (await atDaemon(`/containers/${name}/json`)).json<{ Config: { Labels: Record<string, string> }; HostConfig: { Privileged: boolean; Memory: number; PidsLimit: number } }>();
    expect(c.Config.Labels['dockgate.owner']).toBe('ci-runner');
    expect(c.HostConfig.Privileged).toBe(false);
    // resource-defaults: only the ci profile adds these.
    expect(c.HostConfig.Memory).toBe(4294967296);
    expect(c.HostConfig.PidsLimit).toBe(4096);
    await inRunner(['rm', name]);
  });

  test('`--privileged` and `-v /:/host` from the runner are refused with readable messages; nothing is created', async () => {
    const cases: [string[], RegExp][] = [
      [['--privileged'], /dockgate: privileged: /],
      [['-v', '/:/host'], /dockgate: host-path-denied: .*\//],
    ];
    for (const [flags, message] of cases) {
      const name = uniqueName('dgt-denied');
      const r = await inRunner(['run', '--name', name, ...LABEL_ARGS, ...flags, ctx.testImage, 'true']);
      expect(r.code, describeResult(r)).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect((await atDaemon(`/containers/${name}/json`)).status).toBe(404);
    }
    const all = (await atDaemon('/containers/json?all=1')).json<{ Id: string }[]>();
    for (const { Id } of all) {
      const c = (await atDaemon(`/containers/${Id}/json`)).json<{ HostConfig: { Privileged: boolean; Binds: string[] | null } }>();
      expect(c.HostConfig.Privileged).toBe(false);
      expect(c.HostConfig.Binds ?? []).not.toContainEqual(expect.stringMatching(/^\/:/));
    }
  });

  test('a bind of the workspace names the host path; outside /workspace and /builds it is read-only', async () => {
    const r = await inRunner([
      'run', '--rm', ...LABEL_ARGS, '-v', `${workspace}:/src`, ctx.testImage,
      'sh', '-c', 'cat /src/checkout.txt; touch /src/new 2>&1; true',
    ]);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(/^job source\n.*Read-only file system/);
    expect(r.stderr).toMatch(/WARNING: .*read-only/);
    expect(existsSync(path.join(workspace, 'new'))).toBe(false);
  });
});
});
