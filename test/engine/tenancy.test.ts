import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { engineContext } from '../support/context.js';
import { clientEnv, describeResult, runCommand, runDocker, spawnDocker, type RunOptions, type RunResult } from '../support/docker-cli.js';
import { engineRequest, listContainers } from '../support/engine-api.js';
import { startDockgateWithConfig, type ConfiguredDockgate } from '../support/dockgate.js';
import { LABEL_ARGS, uniqueName } from '../support/fixtures.js';

// Two tenants through two ownership sockets of one dockgate, on one daemon, with the embedded
// policy (it stamps the owner label): each sees and touches only its own objects, and someone
// else's object answers exactly as the daemon answers for a missing one. Checked with the docker CLI and at the daemon.

type Tenant = 'team-a' | 'team-b';
let dockgate: ConfiguredDockgate | undefined;
const tenant = (name: Tenant, dir: string) => ({
  name,
  unix: { path: path.join(dir, `${name}.sock`) },
  identity: { username: name, groups: [] },
  profile: 'baseline',
  ownership: true,
});

beforeAll(async () => {
  const { dockerHost } = engineContext();
  dockgate = await startDockgateWithConfig({ policy: null, config: (dir) => ({ upstream: dockerHost, listeners: [tenant('team-a', dir), tenant('team-b', dir)] }) });
});
afterEach((t) => {
  if (t.task.result?.state === 'fail' && dockgate) console.log(`--- dockgate log after failed test "${t.task.name}":\n${dockgate.logs().slice(-6000)}`);
});
afterAll(async () => {
  await dockgate?.stop();
});

const env = () => ({ ...engineContext(), hosts: dockgate!.listeners });
// 'daemon': the docker CLI straight at the daemon, for the daemon's own answer to a missing name.
type Caller = Tenant | 'daemon';
const hostOf = (who: Caller) => (who === 'daemon' ? engineContext().dockerHost : env().hosts[who]!.dockerHost);
const as = (who: Caller, args: string[], opts?: RunOptions) => runDocker(hostOf(who), args, opts);
const socketOf = (who: Tenant) => env().hosts[who]!.socketPath!;
const atDaemon = (method: string, p: string, body?: string) =>
  engineRequest(env().dockerSocket, method, p, body === undefined ? {} : { body });

async function ok(r: Promise<RunResult>): Promise<string> {
  const res = await r;
  expect(res.code, describeResult(res)).toBe(0);
  return res.stdout;
}

const lines = (text: string) => text.split('\n').filter((l) => l !== '').sort();

/**
 * What a tenant's failed command prints, with the object's name made generic (and without the
 * CLI's racy log lines, e.g. cp's tar writer noticing the closed upload).
 */
async function failure(who: Caller, args: string[], name: string): Promise<string> {
  const res = await as(who, args);
  expect(res.code, describeResult(res)).not.toBe(0);
  return res.stderr.split(name).join('<name>').split('\n').filter((l) => !l.startsWith('time=')).join('\n');
}

describe('ownership: two tenants on one daemon', () => {
  const a = { box: uniqueName('dgt-a-box'), vol: uniqueName('dgt-a-vol'), net: uniqueName('dgt-a-net') };
  const b = { box: uniqueName('dgt-b-box'), vol: uniqueName('dgt-b-vol'), net: uniqueName('dgt-b-net') };
  const missing = uniqueName('dgt-missing');

  let since = 0;

  beforeAll(async () => {
    since = Math.floor(Date.now() / 1000) - 1;
    const image = env().testImage;
    for (const [who, o] of [['team-a', a], ['team-b', b]] as const) {
      await ok(as(who, ['volume', 'create', ...LABEL_ARGS, o.vol]));
      await ok(as(who, ['network', 'create', ...LABEL_ARGS, o.net]));
      await ok(as(who, ['run', '-d', '--name', o.box, ...LABEL_ARGS, '-v', `${o.vol}:/data`, '--network', o.net, image, 'sleep', '600']));
    }
  });

  afterAll(async () => {
    for (const o of [a, b]) {
      await atDaemon('DELETE', `/containers/${o.box}?force=1`);
      await atDaemon('DELETE', `/volumes/${o.vol}`);
      await atDaemon('DELETE', `/networks/${o.net}`);
    }
  });

  test('objects are stamped with the owner label by the policy', async () => {
    const inspect = await atDaemon('GET', `/containers/${a.box}/json`);
    expect(inspect.json<{ Config: { Labels: Record<string, string> } }>().Config.Labels['dockgate.owner']).toBe('team-a');
    const vol = await atDaemon('GET', `/volumes/${b.vol}`);
    expect(vol.json<{ Labels: Record<string, string> }>().Labels['dockgate.owner']).toBe('team-b');
  });

  test('each sees only its own containers, volumes and networks', async () => {
    for (const [who, own, other] of [['team-a', a, b], ['team-b', b, a]] as const) {
      expect(lines(await ok(as(who, ['ps', '-a', '--format', '{{.Names}}'])))).toEqual([own.box]);
      expect(lines(await ok(as(who, ['volume', 'ls', '--format', '{{.Name}}'])))).toEqual([own.vol]);
      expect(lines(await ok(as(who, ['network', 'ls', '--format', '{{.Name}}'])))).toEqual([own.net]);
      // A filter of the caller's own is kept (and can only narrow further).
      const filtered = await ok(as(who, ['ps', '-a', '--filter', `name=${other.box}`, '--format', '{{.Names}}']));
      expect(filtered).toBe('');
      expect(lines(await ok(as(who, ['ps', '-a', '--filter', `name=${own.box}`, '--format', '{{.Names}}'])))).toEqual([own.box]);
    }
    // The daemon itself has both.
    const all = await listContainers(env().dockerSocket, { name: [a.box, b.box] });
    expect(all).toHaveLength(2);
  });

  // Every operation on another tenant's container answers as if the name did not exist.
  // (`cp` into a container stats the destination first: the CLI's own message for a 404.)
  const containerOps: [string, (c: string) => string[], string?][] = [
    ['inspect', (c) => ['container', 'inspect', c]],
    ['start', (c) => ['start', c]],
    ['stop', (c) => ['stop', '-t', '1', c]],
    ['kill', (c) => ['kill', c]],
    ['restart', (c) => ['restart', '-t', '1', c]],
    ['pause', (c) => ['pause', c]],
    ['unpause', (c) => ['unpause', c]],
    ['rename', (c) => ['rename', c, uniqueName('dgt-renamed')]],
    ['update', (c) => ['update', '--cpu-shares', '512', c]],
    ['exec', (c) => ['exec', c, 'true']],
    ['attach', (c) => ['attach', '--no-stdin', c]],
    ['logs', (c) => ['logs', c]],
    ['stats', (c) => ['stats', '--no-stream', c]],
    ['top', (c) => ['top', c]],
    ['port', (c) => ['port', c]],
    ['diff', (c) => ['diff', c]],
    ['cp from (archive get)', (c) => ['cp', `${c}:/etc/hostname`, '-']],
    ['cp to (archive put)', (c) => ['cp', '/etc/hostname', `${c}:/tmp/`], 'no such directory'],
    ['export', (c) => ['export', '-o', `/tmp/${c}.tar`, c]],
    ['commit', (c) => ['commit', c]],
    ['wait', (c) => ['wait', c]],
    ['rm', (c) => ['rm', c]],
  ];

  test.each(containerOps)('%s of the other tenant\'s container: "No such container", exactly as for a missing one', async (_op, args, says) => {
    const hidden = await failure('team-a', args(b.box), b.box);
    expect(hidden).toContain(says ?? 'No such container: <name>');
    expect(hidden).toBe(await failure('daemon', args(missing), missing));
    // A missing name through the tenant socket answers the same (dockgate answers it: sent on, the
    // name could meet another tenant's object created in the meantime).
    expect(await failure('team-a', args(missing), missing)).toBe(hidden);
  });

  test('the other tenant\'s container is untouched after all of that', async () => {
    const inspect = (await atDaemon('GET', `/containers/${b.box}/json`)).json<{ Name: string; State: { Running: boolean; Paused: boolean } }>();
    expect(inspect.Name).toBe(`/${b.box}`);
    expect(inspect.State).toMatchObject({ Running: true, Paused: false });
    // And it still works for its owner.
    expect(await ok(as('team-b', ['exec', b.box, 'echo', 'mine']))).toBe('mine\n');
  });

  test('volumes and networks of the other tenant answer as missing ones', async () => {
    const cases: [string[], string][] = [
      [['volume', 'inspect', b.vol], b.vol],
      [['volume', 'rm', b.vol], b.vol],
      [['network', 'inspect', b.net], b.net],
      [['network', 'rm', b.net], b.net],
      [['network', 'connect', b.net, a.box], b.net],
      [['network', 'disconnect', b.net, a.box], b.net],
    ];
    for (const [args, name] of cases) {
      const hidden = await failure('team-a', args, name);
      expect(hidden).toBe(await failure('daemon', args.map((x) => (x === name ? missing : x)), missing));
    }
    // Connecting the other's container to one's own network: that container does not exist.
    for (const verb of ['connect', 'disconnect']) {
      const hidden = await failure('team-a', ['network', verb, a.net, b.box], b.box);
      expect(hidden).toContain('No such container: <name>');
      expect(hidden).toBe(await failure('team-a', ['network', verb, a.net, missing], missing));
    }
    expect((await atDaemon('GET', `/volumes/${b.vol}`)).status).toBe(200);
    expect((await atDaemon('GET', `/networks/${b.net}`)).status).toBe(200);
  });

  test('execs belong to their container\'s owner: start, inspect and resize answer "No such exec instance"', async () => {
    const create = await engineRequest(socketOf('team-b'), 'POST', `/containers/${b.box}/exec`, {
      body: JSON.stringify({ Cmd: ['true'] }),
    });
    expect(create.status, create.text()).toBe(201);
    const id = create.json<{ Id: string }>().Id;
    const aSocket = socketOf('team-a');
    const calls: [string, (x: string) => string, string?][] = [
      ['GET', (x) => `/exec/${x}/json`],
      ['POST', (x) => `/exec/${x}/start`, JSON.stringify({ Detach: true })],
      ['POST', (x) => `/exec/${x}/resize?h=10&w=10`],
    ];
    for (const [method, p, body] of calls) {
      const opts = body === undefined ? {} : { body };
      const hidden = await engineRequest(aSocket, method, p(id), opts);
      const absent = await engineRequest(aSocket, method, p(missing), opts);
      expect(hidden.status, hidden.text()).toBe(404);
      expect(hidden.json()).toEqual({ message: `No such exec instance: ${id}` });
      expect(absent.status).toBe(404);
      expect(absent.json()).toEqual({ message: `No such exec instance: ${missing}` });
    }
    // Never started by the other tenant.
    expect((await atDaemon('GET', `/exec/${id}/json`)).json<{ Running: boolean; ExitCode: number | null }>()).toMatchObject({ ExitCode: null });
  });

  test('--volumes-from and container: namespaces of the other tenant\'s container are refused as missing', async () => {
    const image = env().testImage;
    for (const flags of [['--volumes-from', b.box], ['--network', `container:${b.box}`], ['--pid', `container:${b.box}`], ['--ipc', `container:${b.box}`]]) {
      const r = await as('team-a', ['run', '--rm', ...LABEL_ARGS, ...flags, image, 'true']);
      expect(r.code, describeResult(r)).not.toBe(0);
      expect(r.stderr).toContain(`No such container: ${b.box}`);
    }
    // One's own: allowed (the policy sees that the container is the caller's).
    const own = await as('team-a', ['run', '--rm', ...LABEL_ARGS, '--volumes-from', a.box, '--pid', `container:${a.box}`, image, 'ls', '/data']);
    expect(own.code, describeResult(own)).toBe(0);
    // The other's network and volume: missing, and a name taken by someone else.
    const net = await as('team-a', ['run', '--rm', ...LABEL_ARGS, '--network', b.net, image, 'true']);
    expect(net.code, describeResult(net)).not.toBe(0);
    expect(net.stderr).toContain(`network ${b.net} not found`);
    const vol = await as('team-a', ['run', '--rm', ...LABEL_ARGS, '-v', `${b.vol}:/data`, image, 'true']);
    expect(vol.code, describeResult(vol)).not.toBe(0);
    expect(vol.stderr).toContain(`dockgate: conflict: the volume name "${b.vol}" is already in use by another owner`);
  });

  test('creating under a name the other tenant uses: a clear conflict, never its object', async () => {
    const cases: [string[], string][] = [
      [['create', '--name', b.box, ...LABEL_ARGS, env().testImage, 'true'], 'container'],
      [['volume', 'create', b.vol], 'volume'],
      [['network', 'create', b.net], 'network'],
    ];
    for (const [args, kind] of cases) {
      const r = await as('team-a', args);
      expect(r.code, describeResult(r)).not.toBe(0);
      expect(r.stderr).toContain(`dockgate: conflict: the ${kind} name`);
    }
    const vol = (await atDaemon('GET', `/volumes/${b.vol}`)).json<{ Labels: Record<string, string> }>();
    expect(vol.Labels['dockgate.owner']).toBe('team-b');
  });

  test('prune removes only the caller\'s stopped containers', async () => {
    const stopped = { a: uniqueName('dgt-a-done'), b: uniqueName('dgt-b-done') };
    await ok(as('team-a', ['run', '--name', stopped.a, ...LABEL_ARGS, env().testImage, 'true']));
    await ok(as('team-b', ['run', '--name', stopped.b, ...LABEL_ARGS, env().testImage, 'true']));
    try {
      await ok(as('team-a', ['container', 'prune', '-f']));
      expect((await atDaemon('GET', `/containers/${stopped.a}/json`)).status).toBe(404);
      expect((await atDaemon('GET', `/containers/${stopped.b}/json`)).status).toBe(200);
      expect((await atDaemon('GET', `/containers/${b.box}/json`)).status).toBe(200);
      // Unused named volumes of both: only the caller's go. (The test daemon speaks API 1.41,
      // where prune takes named volumes without --all.)
      await ok(as('team-a', ['volume', 'create', ...LABEL_ARGS, stopped.a]));
      await ok(as('team-b', ['volume', 'create', ...LABEL_ARGS, stopped.b]));
      await ok(as('team-a', ['volume', 'prune', '-f']));
      expect((await atDaemon('GET', `/volumes/${stopped.a}`)).status).toBe(404);
      expect((await atDaemon('GET', `/volumes/${stopped.b}`)).status).toBe(200);
      expect((await atDaemon('GET', `/volumes/${a.vol}`)).status).toBe(200);
    } finally {
      await atDaemon('DELETE', `/containers/${stopped.b}?force=1`);
      await atDaemon('DELETE', `/volumes/${stopped.b}`);
    }
  });

  test('builder prune cannot be scoped: refused; system prune prunes the rest of one\'s own first', async () => {
    const r = await as('team-a', ['builder', 'prune', '-f'], { env: { DOCKER_BUILDKIT: '0' } });
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.stderr).toContain('cannot be pruned per tenant');
    const stopped = { a: uniqueName('dgt-a-sys'), b: uniqueName('dgt-b-sys') };
    await ok(as('team-a', ['run', '--name', stopped.a, ...LABEL_ARGS, env().testImage, 'true']));
    await ok(as('team-b', ['run', '--name', stopped.b, ...LABEL_ARGS, env().testImage, 'true']));
    try {
      // The CLI prunes containers, networks and images, then the build cache: that one is refused.
      const sys = await as('team-a', ['system', 'prune', '-f']);
      expect(sys.code, describeResult(sys)).toBe(1);
      expect(sys.stdout).toContain('Deleted Containers:');
      expect(sys.stderr).toContain('cannot be pruned per tenant');
      expect((await atDaemon('GET', `/containers/${stopped.a}/json`)).status).toBe(404);
      expect((await atDaemon('GET', `/containers/${stopped.b}/json`)).status).toBe(200);
    } finally {
      await atDaemon('DELETE', `/containers/${stopped.a}?force=1`);
      await atDaemon('DELETE', `/containers/${stopped.b}?force=1`);
    }
  });

  test('a live event stream shows the caller\'s events as they happen, and none of the other\'s', async () => {
    const watch = spawnDocker(hostOf('team-a'), ['events', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
    try {
      // The other tenant acts first: if its event got through it would be before ours.
      const theirs = uniqueName('dgt-b-evt');
      const mine = uniqueName('dgt-a-evt');
      await ok(as('team-b', ['create', '--name', theirs, ...LABEL_ARGS, env().testImage, 'true']));
      await ok(as('team-a', ['create', '--name', mine, ...LABEL_ARGS, env().testImage, 'true']));
      await watch.waitForOutput(new RegExp(`create ${mine}`), 20_000);
      expect(watch.stdout()).not.toContain(theirs);
      await atDaemon('DELETE', `/containers/${theirs}`);
      await atDaemon('DELETE', `/containers/${mine}`);
    } finally {
      watch.child.kill('SIGKILL');
      await watch.exited;
    }
  });

  test('events and system df show only the caller\'s objects', async () => {
    const until = Math.ceil(Date.now() / 1000) + 1;
    for (const [who, own, other] of [['team-a', a, b], ['team-b', b, a]] as const) {
      const names = lines(await ok(as(who, ['events', '--since', String(since), '--until', String(until), '--format', '{{.Type}} {{.Actor.Attributes.name}}'])));
      expect(names).toContain(`container ${own.box}`);
      expect(names.filter((n) => n.includes(other.box) || n.includes(other.vol) || n.includes(other.net))).toEqual([]);
      const df = await engineRequest(socketOf(who), 'GET', '/system/df');
      expect(df.status, df.text()).toBe(200);
      const usage = df.json<{ Containers: { Names: string[]; Labels: Record<string, string> }[]; Volumes: { Name: string }[] }>();
      expect(usage.Containers.map((c) => c.Names[0])).toContain(`/${own.box}`);
      expect(usage.Containers.every((c) => c.Labels['dockgate.owner'] === who)).toBe(true);
      expect(usage.Volumes.map((v) => v.Name)).toEqual([own.vol]);
    }
  });
});

describe('ownership: built images', () => {
  const tag = `dockgate-test/b-built:${uniqueName('t')}`;
  const missingTag = `dockgate-test/b-built:${uniqueName('missing')}`;
  let context: string;

  beforeAll(async () => {
    context = await fs.mkdtemp('/tmp/dgt-tenancy-build-');
    await fs.writeFile(path.join(context, 'Dockerfile'), `FROM ${env().testImage}\nRUN echo built > /built\n`);
    const r = await as('team-b', ['build', '--label', 'dockgate.owner=team-a', '-t', tag, context], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });
    expect(r.code, describeResult(r)).toBe(0);
  });

  afterAll(async () => {
    await atDaemon('DELETE', `/images/${tag}?force=1`);
    if (context) await fs.rm(context, { recursive: true, force: true });
  });

  test('an image built through a tenant socket is its builder\'s (a claimed owner label is replaced)', async () => {
    const inspect = (await atDaemon('GET', `/images/${tag}/json`)).json<{ Config: { Labels: Record<string, string> } }>();
    expect(inspect.Config.Labels['dockgate.owner']).toBe('team-b');
    expect(lines(await ok(as('team-b', ['images', '--format', '{{.Repository}}:{{.Tag}}'])))).toContain(tag);
    expect(await ok(as('team-a', ['images', '--format', '{{.Repository}}:{{.Tag}}']))).not.toContain(tag);
  });

  test('the other tenant gets "No such image" for it, as for a missing one', async () => {
    for (const args of [['image', 'inspect'], ['rmi'], ['history'], ['tag', '-', 'dockgate-test/stolen:1'], ['save', '-o', '/tmp/dgt-tenancy-save.tar']]) {
      const cmd = (ref: string) => (args[1] === '-' ? [args[0]!, ref, args[2]!] : [...args, ref]);
      const hidden = await failure('team-a', cmd(tag), tag);
      expect(hidden).toMatch(/No such image|reference does not exist/);
      expect(hidden).toBe(await failure('team-a', cmd(missingTag), missingTag));
    }
    const create = (image: string) =>
      engineRequest(socketOf('team-a'), 'POST', '/containers/create', { body: JSON.stringify({ Image: image, Labels: { 'dockgate.test': '1' } }) });
    const hidden = await create(tag);
    const absent = await create(missingTag);
    expect(hidden.status, hidden.text()).toBe(404);
    expect(absent.status, absent.text()).toBe(404);
    expect(hidden.json()).toEqual(JSON.parse(absent.text().split(missingTag).join(tag)));
    expect((await atDaemon('GET', `/images/${tag}/json`)).status).toBe(200);
  });
});

describe('ownership: two compose projects with the same name', () => {
  const COMPOSE = process.env.DOCKGATE_TEST_COMPOSE ?? '/usr/bin/docker-compose';
  const project = `dgtt${randomBytes(4).toString('hex')}`;
  let dir: string;
  const compose = (who: Tenant, args: string[]) =>
    runCommand(COMPOSE, ['-p', project, ...args], {
      cwd: dir,
      env: clientEnv(hostOf(who), { COMPOSE_INTERACTIVE_NO_CLI: '1' }),
      timeoutMs: 120_000,
    });
  const projectContainers = () => listContainers(env().dockerSocket, { label: [`com.docker.compose.project=${project}`] });

  beforeAll(async () => {
    dir = await fs.mkdtemp('/tmp/dgt-tenancy-');
    await fs.writeFile(
      path.join(dir, 'docker-compose.yml'),
      `version: "3.7"
services:
  app:
    image: ${env().testImage}
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
    volumes: ["appdata:/data"]
    labels: { dockgate.test: "1" }
volumes:
  appdata:
    labels: { dockgate.test: "1" }
`,
    );
  });

  afterAll(async () => {
    if (dir) {
      await compose('team-a', ['down', '-v', '--timeout', '1']).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('the second tenant gets a conflict and the first one\'s project is untouched', async () => {
    const up = await compose('team-a', ['up', '-d']);
    expect(up.code, describeResult(up)).toBe(0);
    const before = await projectContainers();
    expect(before).toHaveLength(1);

    const clash = await compose('team-b', ['up', '-d']);
    expect(clash.code, describeResult(clash)).not.toBe(0);
    expect(clash.stderr).toContain('dockgate: conflict: the network name');
    expect(clash.stderr).toContain('already in use by another owner');
    // team-b sees no project of that name, so `down` there has nothing to take down.
    const down = await compose('team-b', ['down', '-v', '--timeout', '1']);
    expect(down.code, describeResult(down)).toBe(0);

    const after = await projectContainers();
    expect(after.map((c) => [c.Id, c.State])).toEqual([[before[0]!.Id, 'running']]);
    expect(after[0]!.Labels?.['dockgate.owner']).toBe('team-a');
    for (const p of [`/volumes/${project}_appdata`, `/networks/${project}_default`]) {
      const res = await atDaemon('GET', p);
      expect(res.status, `${p}: ${res.text()}`).toBe(200);
      expect(res.json<{ Labels: Record<string, string> }>().Labels['dockgate.owner']).toBe('team-a');
    }
  });
});
