import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { clientEnv, describeResult, runCommand, type RunResult } from '../support/docker-cli.js';
import { engineRequest, listContainers } from '../support/engine-api.js';
import { useDockgate } from '../support/fixtures.js';

// docker-compose 1.29 (Python, docker-py underneath) through dockgate: up -d creates a project's
// containers, named volume and user network; down -v removes them all. Checked at the daemon.
// The network is internal and nothing sends traffic on it.

const COMPOSE = process.env.DOCKGATE_TEST_COMPOSE ?? '/usr/bin/docker-compose';

const env = useDockgate();

describe('docker-compose through dockgate', () => {
  const project = `dgtc${randomBytes(4).toString('hex')}`;
  let dir: string;

  const compose = (args: string[]): Promise<RunResult> =>
    runCommand(COMPOSE, ['-p', project, ...args], {
      cwd: dir,
      env: clientEnv(env().dockgate.dockerHost, { COMPOSE_INTERACTIVE_NO_CLI: '1' }),
      timeoutMs: 120_000,
    });
  const atDaemon = (method: string, p: string) => engineRequest(env().dockerSocket, method, p);
  const projectContainers = () => listContainers(env().dockerSocket, { label: [`com.docker.compose.project=${project}`] });

  beforeAll(async () => {
    dir = await fs.mkdtemp('/tmp/dgt-compose-');
    const image = env().testImage;
    // PID 1 ignores SIGTERM unless it traps it: the trap keeps `down` from waiting 10 s per service.
    await fs.writeFile(
      path.join(dir, 'docker-compose.yml'),
      `version: "3.7"
services:
  app:
    image: ${image}
    command: ["sh", "-c", "trap 'exit 0' TERM; echo compose-up-$$((6*7)) > /data/marker; cat /data/marker; sleep 3600 & wait"]
    volumes: ["appdata:/data"]
    networks: [appnet]
    labels: { dockgate.test: "1" }
  sidecar:
    image: ${image}
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
    networks: [appnet]
    labels: { dockgate.test: "1" }
volumes:
  appdata:
    labels: { dockgate.test: "1" }
networks:
  appnet:
    internal: true
    labels: { dockgate.test: "1" }
`,
    );
  });

  afterAll(async () => {
    if (dir) {
      // After a failed test: take the project down anyway, then drop the directory.
      await compose(['down', '-v', '--timeout', '1']).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('up -d creates the containers, the named volume and the user network', async () => {
    const up = await compose(['up', '-d']);
    expect(up.code, describeResult(up)).toBe(0);

    const containers = await projectContainers();
    expect(containers.map((c) => c.Labels?.['com.docker.compose.service']).sort()).toEqual(['app', 'sidecar']);
    expect(containers.every((c) => c.State === 'running')).toBe(true);

    const volume = await atDaemon('GET', `/volumes/${project}_appdata`);
    expect(volume.status, volume.text()).toBe(200);
    const network = await atDaemon('GET', `/networks/${project}_appnet`);
    expect(network.status, network.text()).toBe(200);
    expect(network.json<{ Internal: boolean }>().Internal).toBe(true);
  });

  test('exec -T and logs reach the service', async () => {
    const exec = await compose(['exec', '-T', 'app', 'cat', '/data/marker']);
    expect(exec.code, describeResult(exec)).toBe(0);
    expect(exec.stdout).toBe('compose-up-42\n');

    const logs = await compose(['logs', '--no-color', 'app']);
    expect(logs.code, describeResult(logs)).toBe(0);
    expect(logs.stdout).toMatch(/app_1\s+\| compose-up-42/);
  });

  test('down -v removes the containers, the volume and the network', async () => {
    const down = await compose(['down', '-v', '--timeout', '5']);
    expect(down.code, describeResult(down)).toBe(0);

    expect(await projectContainers()).toEqual([]);
    expect((await atDaemon('GET', `/volumes/${project}_appdata`)).status).toBe(404);
    expect((await atDaemon('GET', `/networks/${project}_appnet`)).status).toBe(404);
  });
});
