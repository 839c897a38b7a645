import { promises as fs } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { engineContext } from '../support/context.js';
import { describeResult, runDocker } from '../support/docker-cli.js';
import { startDockgateWithConfig, type ConfiguredDockgate } from '../support/dockgate.js';
import { engineRequest } from '../support/engine-api.js';
import { LABEL_ARGS, uniqueName } from '../support/fixtures.js';
import { createPki, type ClientCert } from '../support/tls-pki.js';

// Certificate identities feed ownership: two client certificates on ONE mutual-TLS listener with
// ownership are two tenants, each seeing and touching only its own objects (embedded policy,
// which stamps the owner label).

let dockgate: ConfiguredDockgate;
let pkiRoot: string;
const certs: Record<'alice' | 'bob', ClientCert> = {} as never;
const box = uniqueName('dgt-tls-box');
const vol = uniqueName('dgt-tls-vol');

beforeAll(async () => {
  const ctx = engineContext();
  pkiRoot = await fs.mkdtemp('/tmp/dgg-pki-');
  const pki = await createPki(pkiRoot, 'tenancy-ca');
  const server = await pki.server();
  certs.alice = await pki.client('alice', '/CN=alice/OU=team-a');
  certs.bob = await pki.client('bob', '/CN=bob/OU=team-b');
  dockgate = await startDockgateWithConfig({
    policy: null,
    config: () => ({
      upstream: ctx.dockerHost,
      listeners: [
        {
          name: 'remote',
          tcp: { address: '127.0.0.1:0', cert: server.cert, key: server.key, clientCA: pki.ca.cert },
          profile: 'baseline',
          ownership: true,
          identityFrom: [
            { match: { ou: 'team-a' }, identity: { username: 'team-a', groups: ['dev'] } },
            { match: { ou: 'team-b' }, identity: { username: 'team-b', groups: ['dev'] } },
          ],
        },
      ],
    }),
  });
});

afterEach((t) => {
  if (t.task.result?.state === 'fail') console.log(`--- dockgate log after "${t.task.name}":\n${dockgate?.logs().slice(-6000)}`);
});

afterAll(async () => {
  const socket = engineContext().dockerSocket;
  await engineRequest(socket, 'DELETE', `/containers/${box}?force=1`);
  await engineRequest(socket, 'DELETE', `/volumes/${vol}`);
  await dockgate?.stop();
  if (pkiRoot) await fs.rm(pkiRoot, { recursive: true, force: true });
});

const as = (who: 'alice' | 'bob', args: string[]) =>
  runDocker(dockgate.listeners.remote!.dockerHost, args, { env: { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs[who].dir } });

describe('certificate identities with ownership', () => {
  test('each certificate is its own tenant on the same listener', async () => {
    for (const r of [await as('alice', ['volume', 'create', ...LABEL_ARGS, vol]), await as('alice', ['create', '--name', box, ...LABEL_ARGS, engineContext().testImage, 'true'])]) {
      expect(r.code, describeResult(r)).toBe(0);
    }
    // Stamped with the identity of alice's certificate.
    const inspect = await engineRequest(engineContext().dockerSocket, 'GET', `/containers/${box}/json`);
    expect(inspect.json<{ Config: { Labels: Record<string, string> } }>().Config.Labels['dockgate.owner']).toBe('team-a');

    const mine = await as('alice', ['ps', '-a', '--format', '{{.Names}}']);
    expect(mine.stdout.split('\n')).toContain(box);
    const theirs = await as('bob', ['ps', '-a', '--format', '{{.Names}}']);
    expect(theirs.code, describeResult(theirs)).toBe(0);
    expect(theirs.stdout.split('\n')).not.toContain(box);
    const vols = await as('bob', ['volume', 'ls', '-q']);
    expect(vols.stdout.split('\n')).not.toContain(vol);

    for (const op of [['rm', box], ['start', box], ['inspect', box]]) {
      const r = await as('bob', op);
      expect(r.code, describeResult(r)).not.toBe(0);
      expect(r.stderr).toMatch(/No such (container|object)/);
    }
    expect((await engineRequest(engineContext().dockerSocket, 'GET', `/containers/${box}/json`)).status).toBe(200);
    const vi = await as('bob', ['volume', 'inspect', vol]);
    expect(vi.code, describeResult(vi)).not.toBe(0);
    expect(vi.stderr).toMatch(/no such volume/i);
  });
});
