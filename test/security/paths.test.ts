import { describe, expect, test } from 'vitest';
import { createAtDaemon, expectNothingCreated, inspectContainer } from '../support/daemon-state.js';
import { describeExchange, jsonPost } from '../support/raw-http.js';
import { expectDockgateRefusal, useGuardedDockgate } from '../support/security.js';

// THREATS.md "Paths": dockerd routes a create under many spellings of its path. dockgate must
// judge every spelling dockerd routes as a create, and refuse the ones it cannot be sure of.

const env = useGuardedDockgate('paths');

const privileged = (image: string) => `{"Image":"${image}","Cmd":["true"],"HostConfig":{"Privileged":true}}`;

// dockerd routes all of these to POST /containers/create: dockgate must judge them (403).
const ROUTED = [
  '/containers/create',
  '/v1.41/containers/create',
  '/v1.41.0/containers/create',
  '/v1.24/containers/create',
  '/v001.041/containers/create',
  '/v1.41/containers%2Fcreate',
  '/v1.41/containers%2fcreate',
  '/v1.41/%63ontainers/create',
  '/v1.41/containers/cr%65ate',
  '/%761.41/containers/create',
];

// dockerd redirects (301) or answers 404 for these, or they are odd enough that only a refusal
// is safe: dockgate refuses them (400) rather than guess.
const UNCLEAN = [
  '//containers/create',
  '/v1.41//containers/create',
  '/v1.41/containers//create',
  '/v1.41/./containers/create',
  '/v1.41/containers/./create',
  '/v1.41/containers/../containers/create',
  '/v1.41/x/../containers/create',
  '/v1.41/containers/%2e%2e/containers/create',
  '/v1.41/containers%2F..%2Fcontainers/create',
  '/Containers/create',
  '/v1.41/Containers/create',
  '/v1.41/containers/Create',
  '/V1.41/containers/create',
  '/v1.41/containers/create/',
  '/containers/create/',
  '/v1.23/containers/create',
  '/v1/containers/create',
  '/v1.41.1/containers/create',
];

describe('request paths', () => {
  test.each(ROUTED)('POST %s with Privileged: judged, denied (403)', async (path) => {
    const f = env();
    const before = await f.snapshot();
    const req = jsonPost(`${path}?name=${f.name('routed')}`, privileged(f.testImage));
    const x = await f.send(req);
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectDockgateRefusal(req, x, [403]);
  });

  test.each(UNCLEAN)('POST %s with Privileged: refused (400), nothing created', async (path) => {
    const f = env();
    const before = await f.snapshot();
    const req = jsonPost(`${path}?name=${f.name('unclean')}`, privileged(f.testImage));
    const x = await f.send(req);
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectDockgateRefusal(req, x, [400]);
  });

  test('a fragment in the target: refused (400)', async () => {
    const f = env();
    const before = await f.snapshot();
    const req = jsonPost(`/v1.41/containers/create?name=${f.name('frag')}#x`, privileged(f.testImage));
    const x = await f.send(req);
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectDockgateRefusal(req, x, [400]);
  });

  // Before API 1.24 dockerd applies a HostConfig sent to start: create-time admission bypassed.
  test.each([
    ['/v1.23', `{"Privileged":true,"Binds":["/:/host"]}`],
    ['/v1.12', `{"Privileged":true}`],
    ['/v1.41', `{"Privileged":true,"Binds":["/:/host"]}`],
    ['', `{"HostConfig":{"Privileged":true}}`],
  ])('POST %s/containers/{id}/start with a HostConfig body: refused (400), container unchanged and not started', async (prefix, body) => {
    const f = env();
    const name = f.name('start');
    await createAtDaemon(f.dockerSocket, name, { Image: f.testImage, Cmd: ['sleep', '60'] });
    const req = jsonPost(`${prefix}/containers/${name}/start`, body);
    const x = await f.send(req);
    const c = await inspectContainer(f.dockerSocket, name);
    const detail = describeExchange(req, x);
    expect(c, detail).toBeDefined();
    expect(c!.HostConfig.Privileged, detail).toBe(false);
    expect(c!.HostConfig.Binds ?? [], detail).toEqual([]);
    expect(c!.State.Running, detail).toBe(false);
    expectDockgateRefusal(req, x, [400]);
  });
});
