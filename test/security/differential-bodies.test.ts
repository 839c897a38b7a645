import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createAtDaemon, removeByPrefix } from '../support/daemon-state.js';
import { engineRequest, type EngineResponse } from '../support/engine-api.js';
import { useDockgate, uniqueName } from '../support/fixtures.js';
import { fuzzBudget } from '../support/fuzz-run.js';
import {
  arr,
  boolSpelling,
  integerSpelling,
  objectOf,
  render,
  str,
  stringArray,
  stringMap,
  stringSpelling,
  type Doc,
  type FieldSpec,
} from '../support/json-fuzz.js';

// Differential testing against the real daemon (issue 9). Every generated body is sent once
// straight to dockerd and once through dockgate (allow-all policy). Either dockgate refuses it
// itself, and then nothing may exist at the daemon, or the daemon must answer both the same and
// the two objects, as inspect reports them, must be identical: a body dockgate forwards never
// means something else to the daemon than what the client sent.

const env = useDockgate();
const prefix = uniqueName('diff');
const budget = { create: fuzzBudget(120), exec: fuzzBudget(50), volume: fuzzBudget(50) };
const tally = { refused: 0, sameError: 0, sameObject: 0 };

afterAll(async () => {
  await removeByPrefix(env().dockerSocket, prefix);
  console.log(`[differential-bodies] seed ${budget.create.seed}: ${JSON.stringify(tally)}`);
});

let n = 0;
const nextName = (tag: string) => `${prefix}-${tag}-${++n}`;

const post = (socket: string, path: string, body: string) =>
  engineRequest(socket, 'POST', path, { body: Buffer.from(body, 'utf8'), headers: { 'Content-Type': 'application/json' } });

const messageOf = (r: EngineResponse) => {
  try {
    return String(r.json<{ message?: unknown }>().message ?? r.text());
  } catch {
    return r.text();
  }
};
const refusedByDockgate = (r: EngineResponse) => r.status >= 400 && messageOf(r).startsWith('dockgate:');

/** What must be equal between the two objects: everything but identity, paths and times. */
function comparable(kind: 'container' | 'exec' | 'volume', raw: Record<string, unknown>): unknown {
  const drop = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
  if (kind === 'volume') return drop(raw, ['Name', 'Mountpoint', 'CreatedAt']);
  // CanRemove: set by the daemon's exec garbage collector (every 5 minutes), not by the body.
  if (kind === 'exec') return drop(raw, ['ID', 'CanRemove']);
  const c = drop(raw, ['Id', 'Created', 'Name', 'State', 'ResolvConfPath', 'HostnamePath', 'HostsPath', 'LogPath', 'GraphDriver', 'NetworkSettings']);
  const config = drop(raw.Config as Record<string, unknown>, ['Hostname']);
  // Anonymous volumes get random names; their place and options must still agree.
  const mounts = ((raw.Mounts as Record<string, unknown>[] | null) ?? [])
    .map((m) => (m.Type === 'volume' ? drop(m, ['Name', 'Source']) : m))
    .sort((a, b) => String(a.Destination).localeCompare(String(b.Destination)));
  return { ...c, Config: config, Mounts: mounts };
}

interface Differential {
  kind: 'container' | 'exec' | 'volume';
  body: string;
  /** Sends the body to one socket; the name makes each side's object distinct. */
  send(socket: string, name: string, body: string): Promise<EngineResponse>;
  /** Path to inspect the object a 201 answer created. */
  inspectPath(created: EngineResponse, name: string): string;
  remove(socket: string, created: EngineResponse, name: string): Promise<void>;
}

async function checkDifferential(d: Differential): Promise<void> {
  const f = env();
  const direct = nextName('d');
  const gated = nextName('g');
  const viaDaemon = await d.send(f.dockerSocket, direct, d.body);
  const viaGate = await d.send(f.dockgate.socketPath, gated, d.body);
  const context = `body ${JSON.stringify(d.body)}\n direct: ${viaDaemon.status} ${viaDaemon.text()}\n dockgate: ${viaGate.status} ${viaGate.text()}`;
  try {
    if (refusedByDockgate(viaGate)) {
      tally.refused++;
      if (d.kind !== 'exec') {
        const probe = await engineRequest(f.dockerSocket, 'GET', d.kind === 'container' ? `/containers/${gated}/json` : `/volumes/${gated}`);
        expect(probe.status, `dockgate refused, yet the daemon has ${gated}\n${context}`).toBe(404);
      }
      return;
    }
    expect(viaGate.status, `the daemon answered the forwarded body differently\n${context}`).toBe(viaDaemon.status);
    if (viaDaemon.status !== 201) {
      tally.sameError++;
      return;
    }
    const [a, b] = await Promise.all([
      engineRequest(f.dockerSocket, 'GET', d.inspectPath(viaDaemon, direct)),
      engineRequest(f.dockerSocket, 'GET', d.inspectPath(viaGate, gated)),
    ]);
    expect(a.status, context).toBe(200);
    expect(b.status, context).toBe(200);
    expect(comparable(d.kind, b.json()), `the forwarded body made a different ${d.kind}\n${context}`).toEqual(comparable(d.kind, a.json()));
    tally.sameObject++;
  } finally {
    if (viaDaemon.status === 201) await d.remove(f.dockerSocket, viaDaemon, direct);
    if (viaGate.status === 201) await d.remove(f.dockerSocket, viaGate, gated);
  }
}

const field = (name: string, value: fc.Arbitrary<Doc>): FieldSpec => ({ name, value });

function containerBody(image: string): fc.Arbitrary<Doc> {
  const restart = objectOf([field('Name', stringSpelling('on-failure')), field('MaximumRetryCount', integerSpelling(3))]);
  const mount = objectOf([field('Type', stringSpelling('bind')), field('Source', stringSpelling('/tmp')), field('Target', stringSpelling('/m')), field('ReadOnly', boolSpelling(true))]);
  const hostConfig = objectOf([
    field('Memory', integerSpelling(16777216)),
    field('CpuShares', integerSpelling(512)),
    field('PidsLimit', integerSpelling(100)),
    field('Privileged', boolSpelling(false)),
    field('ReadonlyRootfs', boolSpelling(true)),
    field('Init', boolSpelling(true)),
    field('CapAdd', stringArray(['NET_ADMIN', 'SYS_PTRACE'])),
    field('CapDrop', stringArray(['ALL', 'MKNOD'])),
    field('Binds', stringArray(['/tmp:/mnt:ro', '/etc:/host-etc'])),
    field('SecurityOpt', stringArray(['no-new-privileges', 'seccomp=unconfined'])),
    field('NetworkMode', stringSpelling('none')),
    field('PidMode', stringSpelling('host')),
    field('RestartPolicy', restart),
    field('Mounts', fc.array(mount, { minLength: 1, maxLength: 2 }).map(arr)),
    field('LogConfig', objectOf([field('Type', stringSpelling('none'))])),
  ]);
  return objectOf(
    [
      field('Cmd', stringArray(['true', 'x'])),
      field('Entrypoint', stringArray(['/bin/sh'])),
      field('Env', stringArray(['A=1', 'PATH=/x'])),
      field('Labels', stringMap(['a', 's', 'k', 'dockgate.test'])),
      field('WorkingDir', stringSpelling('/tmp')),
      field('User', stringSpelling('1000')),
      field('Tty', boolSpelling(false)),
      field('StopTimeout', integerSpelling(5)),
      field('Volumes', stringMap(['/data']).map((m) => (m.t === 'obj' ? { ...m, entries: m.entries.map(([k]) => [k, { t: 'raw', text: '{}' }] as [string, Doc]) } : m))),
      field('HostConfig', hostConfig),
    ],
    [field('Image', stringSpelling(image))],
  );
}

const execBody = objectOf(
  [
    field('AttachStdout', boolSpelling(true)),
    field('Tty', boolSpelling(false)),
    field('Env', stringArray(['A=1'])),
    field('User', stringSpelling('1000')),
    field('Privileged', boolSpelling(false)),
    field('WorkingDir', stringSpelling('/tmp')),
    field('DetachKeys', stringSpelling('ctrl-p,q')),
  ],
  [field('Cmd', stringArray(['sh', '-c', 'true']))],
);

const NAME = '@@NAME@@';
const volumeBody = objectOf(
  [field('Driver', stringSpelling('local')), field('DriverOpts', stringMap(['type', 'o', 'device'])), field('Labels', stringMap(['a', 's']))],
  [field('Name', fc.constant(str(NAME)))],
);

describe('differential: bodies through dockgate mean the same to the daemon', () => {
  let running = '';
  beforeAll(async () => {
    const f = env();
    running = await createAtDaemon(f.dockerSocket, `${prefix}-exec-target`, { Image: f.testImage, Cmd: ['sleep', '3600'] }, true);
  });

  test('container create bodies', { timeout: budget.create.timeoutMs }, async () => {
    const f = env();
    await fc.assert(
      fc.asyncProperty(containerBody(f.testImage), async (doc) => {
        await checkDifferential({
          kind: 'container',
          body: render(doc),
          send: (socket, name, body) => post(socket, `/v1.41/containers/create?name=${name}`, body),
          inspectPath: (_, name) => `/containers/${name}/json`,
          remove: async (socket, _, name) => void (await engineRequest(socket, 'DELETE', `/containers/${name}?force=1&v=1`)),
        });
      }),
      budget.create.params,
    );
  });

  test('exec create bodies', { timeout: budget.exec.timeoutMs }, async () => {
    await fc.assert(
      fc.asyncProperty(execBody, async (doc) => {
        await checkDifferential({
          kind: 'exec',
          body: render(doc),
          send: (socket, _, body) => post(socket, `/v1.41/containers/${running}/exec`, body),
          inspectPath: (created) => `/exec/${created.json<{ Id: string }>().Id}/json`,
          remove: async () => {}, // execs go with their container
        });
      }),
      budget.exec.params,
    );
  });

  test('volume create bodies', { timeout: budget.volume.timeoutMs }, async () => {
    await fc.assert(
      fc.asyncProperty(volumeBody, async (doc) => {
        await checkDifferential({
          kind: 'volume',
          body: render(doc),
          send: (socket, name, body) => post(socket, '/v1.41/volumes/create', body.split(NAME).join(name)),
          inspectPath: (_, name) => `/volumes/${name}`,
          remove: async (socket, _, name) => void (await engineRequest(socket, 'DELETE', `/volumes/${name}?force=1`)),
        });
      }),
      budget.volume.params,
    );
  });

  test('the generators reach both outcomes (the differential is not vacuous)', () => {
    // Bodies the daemon accepted through dockgate and compared equal, and bodies dockgate refused.
    expect(tally.sameObject).toBeGreaterThan(0);
    expect(tally.refused).toBeGreaterThan(0);
  });
});
