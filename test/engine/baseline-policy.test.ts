import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { inspectContainer } from '../support/daemon-state.js';
import { clientEnv, describeResult, runCommand, runDocker } from '../support/docker-cli.js';
import { LABEL_ARGS, uniqueName, useDockgate } from '../support/fixtures.js';

// The embedded default policy (baseline), as `npm start` runs it: benign work passes, with host
// binds forced read-only at the daemon; denials reach each real client as readable messages.

const env = useDockgate({ policy: null });
const PYTHON = process.env.DOCKGATE_TEST_PYTHON ?? '/usr/bin/python3';
const COMPOSE = process.env.DOCKGATE_TEST_COMPOSE ?? '/usr/bin/docker-compose';
const hostDir = mkdtempSync('/tmp/dgt-bind-');
afterAll(() => rmSync(hostDir, { recursive: true, force: true }));

describe('baseline profile (embedded default bundle)', () => {
  test('a host directory bind is forced read-only: the write fails inside and the daemon shows :ro', async () => {
    const name = uniqueName('dgt-ro');
    const r = await runDocker(env().dockgate.dockerHost, [
      'run', '--name', name, ...LABEL_ARGS, '-v', `${hostDir}:/data`, env().testImage, 'sh', '-c', 'touch /data/f',
    ]);
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(r.stderr).toMatch(/WARNING: dockgate: .*made read-only/);
    const c = await inspectContainer(env().dockerSocket, name);
    expect(c?.raw).toContain(`${hostDir}:/data:ro`);
    await runDocker(env().dockerHost, ['rm', '-f', name]);
  });

  test('benign work passes: a named volume, --user 1000, --cap-add NET_BIND_SERVICE', async () => {
    const vol = uniqueName('dgt-vol');
    const r = await runDocker(env().dockgate.dockerHost, [
      'run', '--rm', ...LABEL_ARGS, '-v', `${vol}:/v`, '--user', '1000', '--cap-add', 'NET_BIND_SERVICE', env().testImage, 'sh', '-c', 'id -u',
    ]);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.trim()).toBe('1000');
    await runDocker(env().dockerHost, ['volume', 'rm', vol]);
  });

  test('the docker CLI prints the denial and nothing is created', async () => {
    const name = uniqueName('dgt-priv');
    const r = await runDocker(env().dockgate.dockerHost, ['run', '--name', name, '--privileged', env().testImage, 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("Error response from daemon: dockgate: privileged: --privileged is not allowed");
    expect(await inspectContainer(env().dockerSocket, name)).toBeUndefined();
  });

  test('docker-py raises the denial as an APIError with the message', async () => {
    const script = [
      'import docker, sys',
      'c = docker.from_env()',
      'try:',
      `    c.containers.create(sys.argv[1], "true", privileged=True)`,
      '    print("CREATED")',
      'except docker.errors.APIError as e:',
      '    print(e.status_code, e.explanation)',
    ].join('\n');
    const r = await runCommand(PYTHON, ['-c', script, env().testImage], { env: clientEnv(env().dockgate.dockerHost) });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(/^403 dockgate: privileged: --privileged is not allowed/);
  });

  test('docker-compose shows the denial for a privileged service', async () => {
    const dir = mkdtempSync('/tmp/dgt-compose-');
    const project = uniqueName('dgtpriv').replace(/-/g, '');
    writeFileSync(
      path.join(dir, 'docker-compose.yml'),
      `version: "3"\nservices:\n  app:\n    image: ${env().testImage}\n    command: ["true"]\n    privileged: true\n    network_mode: none\n`,
    );
    try {
      const r = await runCommand(COMPOSE, ['-p', project, 'up', '--no-color'], { cwd: dir, env: clientEnv(env().dockgate.dockerHost), timeoutMs: 120_000 });
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).toContain('dockgate: privileged: --privileged is not allowed');
    } finally {
      await runCommand(COMPOSE, ['-p', project, 'down'], { cwd: dir, env: clientEnv(env().dockerHost) });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
