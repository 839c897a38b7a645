import { beforeAll, describe, expect, test } from 'vitest';
import { engineRequest } from '../support/engine-api.js';
import {
  createAtDaemon,
  expectNothingCreated,
  expectNoHostAccessSince,
  inspectContainer,
  inspectVolume,
  volumeExposesHost,
} from '../support/daemon-state.js';
import { describeExchange, jsonPost } from '../support/raw-http.js';
import { expectDockgateRefusal, useGuardedDockgate } from '../support/security.js';

// THREATS.md "Host access through create fields": binds, bind mounts, local volumes with
// bind/device options (inline, created beforehand through dockgate, or already at the daemon),
// VolumesFrom. Each attack goes through dockgate; the daemon is then inspected directly.

const env = useGuardedDockgate('host');

const createAt = (name: string, body: string) => jsonPost(`/v1.41/containers/create?name=${name}`, body);
const withHostConfig = (image: string, hostConfig: unknown) =>
  JSON.stringify({ Image: image, Cmd: ['true'], HostConfig: hostConfig });

const HOST_VOLUME_OPTIONS = { type: 'none', o: 'bind', device: '/etc' };

/** One create through dockgate that must be denied (403) and leave nothing at the daemon. */
async function expectCreateDenied(body: string): Promise<void> {
  const f = env();
  const before = await f.snapshot();
  const req = createAt(f.name('deny'), body);
  const x = await f.send(req);
  await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
  expectDockgateRefusal(req, x, [403]);
}

// A container with a host bind, created directly at the daemon: what VolumesFrom would inherit.
let bindHolder = '';
beforeAll(async () => {
  const f = env();
  bindHolder = f.name('holder');
  await createAtDaemon(f.dockerSocket, bindHolder, { Image: f.testImage, Cmd: ['true'], HostConfig: { Binds: ['/etc:/host-etc:ro'] } });
});

describe('host access through create fields', () => {
  test.each([
    '/:/host',
    '/etc:/x:ro',
    '/proc/1/root:/r',
    '/run:/r',
    '/var:/v:ro',
    '/etc/../etc:/x',
    '/etc:/x:z',
    '/:/host:rshared',
  ])('HostConfig.Binds %j: denied (403), nothing created', async (bind) => {
    await expectCreateDenied(withHostConfig(env().testImage, { Binds: [bind] }));
  });

  test('HostConfig.Binds of the daemon socket itself, read-only: denied (403), nothing created', async () => {
    const f = env();
    // The daemon under test's own socket (the host has no /var/run/docker.sock to spare).
    await expectCreateDenied(withHostConfig(f.testImage, { Binds: [`${f.dockerSocket}:/var/run/docker.sock:ro`] }));
  });

  test('a host bind hidden after a named volume in Binds: denied (403)', async () => {
    const f = env();
    await expectCreateDenied(withHostConfig(f.testImage, { Binds: [`${f.prefix}-plain:/data`, '/etc:/x'] }));
  });

  test.each([
    { Type: 'bind', Source: '/etc', Target: '/x' },
    { Type: 'bind', Source: '/', Target: '/host', ReadOnly: true },
    // dockerd stats a Mounts source at create: its own /proc/self/root is the host's root too.
    { Type: 'bind', Source: '/proc/self/root', Target: '/r', BindOptions: { Propagation: 'rslave' } },
  ])('HostConfig.Mounts bind %o: denied (403), nothing created', async (mount) => {
    await expectCreateDenied(withHostConfig(env().testImage, { Mounts: [mount] }));
  });

  test('HostConfig.Mounts bind with lower-case keys: denied (403)', async () => {
    const f = env();
    await expectCreateDenied(`{"Image":"${f.testImage}","hostconfig":{"mounts":[{"type":"bind","source":"/etc","target":"/x"}]}}`);
  });

  test('HostConfig.Mounts volume with local DriverConfig type=none,o=bind,device=/etc: denied, no volume created', async () => {
    const f = env();
    const volume = `${f.prefix}-inline`;
    await expectCreateDenied(
      withHostConfig(f.testImage, {
        Mounts: [{ Type: 'volume', Source: volume, Target: '/x', VolumeOptions: { DriverConfig: { Name: 'local', Options: HOST_VOLUME_OPTIONS } } }],
      }),
    );
    expect(await inspectVolume(f.dockerSocket, volume)).toBeUndefined();
  });

  test('HostConfig.Mounts volume mounting a host device (type=ext4,device=/dev/…; lower-case keys): denied', async () => {
    const f = env();
    await expectCreateDenied(
      `{"Image":"${f.testImage}","HostConfig":{"Mounts":[{"type":"volume","source":"${f.prefix}-dev","target":"/x",` +
        `"volumeoptions":{"driverconfig":{"name":"local","options":{"type":"ext4","device":"/dev/sda1"}}}}]}}`,
    );
    expect(await inspectVolume(f.dockerSocket, `${f.prefix}-dev`)).toBeUndefined();
  });

  test('HostConfig.VolumesFrom a container holding a host bind: denied (403), nothing created', async () => {
    const f = env();
    await expectCreateDenied(withHostConfig(f.testImage, { VolumesFrom: [`${bindHolder}:ro`] }));
  });

  test('POST /volumes/create with local bind options: denied, no such volume; a create using the name gets a plain volume', async () => {
    const f = env();
    const volume = `${f.prefix}-vc`;
    const before = await f.snapshot();
    const req = jsonPost('/v1.41/volumes/create', JSON.stringify({ Name: volume, Driver: 'local', DriverOpts: HOST_VOLUME_OPTIONS }));
    const x = await f.send(req);
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expect(await inspectVolume(f.dockerSocket, volume)).toBeUndefined();
    expectDockgateRefusal(req, x, [403]);

    // The follow-up create that would have used it: whatever happens, no host path is exposed.
    const name = f.name('uses-vc');
    const create = createAt(name, withHostConfig(f.testImage, { Binds: [`${volume}:/x`] }));
    const y = await f.send(create);
    await expectNoHostAccessSince(f.dockerSocket, before, describeExchange(create, y));
    const v = await inspectVolume(f.dockerSocket, volume);
    if (v) expect(volumeExposesHost(v), JSON.stringify(v)).toBe(false);
  });

  test.each([
    ['lower-case keys', (name: string) => `{"name":"${name}","driver":"local","driveropts":{"type":"none","o":"bind","device":"/etc"}}`],
    ['no Driver (local by default)', (name: string) => `{"Name":"${name}","DriverOpts":{"type":"none","o":"bind","device":"/"}}`],
    ['o=rw,rbind', (name: string) => `{"Name":"${name}","Driver":"local","DriverOpts":{"device":"/etc","o":"rw,rbind","type":"none"}}`],
    ['a block device', (name: string) => `{"Name":"${name}","Driver":"local","DriverOpts":{"type":"ext4","device":"/dev/sda1"}}`],
    ['escaped DriverOpts key', (name: string) => `{"Name":"${name}","Driver\\u004fpts":{"type":"none","o":"bind","device":"/etc"}}`],
  ])('POST /volumes/create with host options (%s): denied, no such volume', async (_, make) => {
    const f = env();
    const volume = f.name('vc');
    const before = await f.snapshot();
    const req = jsonPost('/volumes/create', make(volume));
    const x = await f.send(req);
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expect(await inspectVolume(f.dockerSocket, volume)).toBeUndefined();
    expectDockgateRefusal(req, x, [403]);
  });

  // A volume that already exists at the daemon with bind options is a host bind by another name:
  // dockgate passes it to the policy as input.volumes[name].
  test.each([
    ['Binds name:/x', (volume: string) => ({ Binds: [`${volume}:/x`] })],
    ['Mounts type volume', (volume: string) => ({ Mounts: [{ Type: 'volume', Source: volume, Target: '/x' }] })],
  ])('an existing bind-options volume referenced by name (%s): denied (403), nothing created', async (_, hostConfig) => {
    const f = env();
    const volume = f.name('preexisting');
    const made = await engineRequest(f.dockerSocket, 'POST', '/volumes/create', {
      body: JSON.stringify({ Name: volume, Driver: 'local', DriverOpts: HOST_VOLUME_OPTIONS }),
    });
    expect(made.status, made.text()).toBe(201);
    await expectCreateDenied(withHostConfig(f.testImage, hostConfig(volume)));
  });

  test('control: a plain named volume and an anonymous volume are allowed and give no host access', async () => {
    const f = env();
    const before = await f.snapshot();
    const name = f.name('plain');
    const req = createAt(name, withHostConfig(f.testImage, { Binds: [`${f.prefix}-plainvol:/data`, '/anon'] }));
    const x = await f.send(req);
    expect(x.responses[0]?.status, describeExchange(req, x)).toBe(201);
    expect(await inspectContainer(f.dockerSocket, name)).toBeDefined();
    await expectNoHostAccessSince(f.dockerSocket, before);
  });
});
