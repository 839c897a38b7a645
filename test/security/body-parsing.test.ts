import { beforeAll, describe, expect, test } from 'vitest';
import { engineRequest } from '../support/engine-api.js';
import { createAtDaemon, expectNothingCreated, expectNoHostAccessSince, inspectContainer } from '../support/daemon-state.js';
import { describeExchange, jsonPost } from '../support/raw-http.js';
import { expectDockgateRefusal, useGuardedDockgate } from '../support/security.js';

// THREATS.md "Body parsing differentials": dockerd decodes JSON with Go's encoding/json, so a
// body a JavaScript filter reads one way can mean something else to the daemon. Each attack goes
// through dockgate; then the daemon itself is asked whether anything was created.

const env = useGuardedDockgate('body');

// A container holding a host bind, created directly at the daemon: what VolumesFrom would inherit.
let source = '';
beforeAll(async () => {
  const f = env();
  source = f.name('source');
  await createAtDaemon(f.dockerSocket, source, { Image: f.testImage, Cmd: ['true'], HostConfig: { Binds: ['/etc:/host-etc:ro'] } });
});

const createAt = (name: string, body: string | Buffer) => jsonPost(`/v1.41/containers/create?name=${name}`, body);

// Bodies dockerd would turn into a container with host access; dockgate must see through the
// spelling and deny (403).
const SPELLINGS: [string, (image: string, source: string) => string][] = [
  ['lower-case keys', (img) => `{"image":"${img}","hostconfig":{"privileged":true}}`],
  ['upper-case keys', (img) => `{"IMAGE":"${img}","HOSTCONFIG":{"PRIVILEGED":true}}`],
  ['long s (U+017F) in HostConfig', (img) => `{"Image":"${img}","Ho\u017ftConfig":{"Privileged":true}}`],
  ['long s (U+017F) in Binds', (img) => `{"Image":"${img}","HostConfig":{"Bind\u017f":["/etc:/host-etc"]}}`],
  ['long s (U+017F) in VolumesFrom', (img, source) => `{"Image":"${img}","HostConfig":{"Volume\u017fFrom":["${source}"]}}`],
  ['escaped key \\u0050rivileged', (img) => `{"Image":"${img}","HostConfig":{"\\u0050rivileged":true}}`],
  ['escaped long s in HoſtConfig', (img) => `{"Image":"${img}","Ho\\u017ftConfig":{"Privileged":true}}`],
  ['fully escaped HostConfig key', (img) => `{"Image":"${img}","\\u0048\\u006f\\u0073\\u0074\\u0043\\u006f\\u006e\\u0066\\u0069\\u0067":{"Privileged":true}}`],
  ['escaped value in Binds', (img) => `{"Image":"${img}","HostConfig":{"Binds":["\\u002fetc:/host-etc"]}}`],
];

// Bodies whose meaning depends on which of several readings a parser picks: refused (400).
const AMBIGUOUS: [string, (image: string) => string][] = [
  ['duplicate HostConfig (last wins in Go)', (img) => `{"Image":"${img}","HostConfig":{"Privileged":false},"HostConfig":{"Privileged":true}}`],
  ['duplicate Privileged inside HostConfig', (img) => `{"Image":"${img}","HostConfig":{"Privileged":false,"Privileged":true}}`],
  ['case-variant duplicate hostConfig', (img) => `{"Image":"${img}","HostConfig":{"Privileged":false},"hostConfig":{"Privileged":true}}`],
  ['case-variant duplicate privileged', (img) => `{"Image":"${img}","HostConfig":{"Privileged":false,"privileged":true}}`],
  ['long-s duplicate HoſtConfig', (img) => `{"Image":"${img}","HostConfig":{"Privileged":false},"Ho\u017ftConfig":{"Privileged":true}}`],
  ['escaped duplicate \\u0050rivileged', (img) => `{"Image":"${img}","HostConfig":{"Privileged":false,"\\u0050rivileged":true}}`],
  // Go merges duplicate struct keys: a filter reading only the last HostConfig sees no Binds.
  ['duplicate struct merge (Binds, then Privileged:false)', (img) => `{"Image":"${img}","HostConfig":{"Binds":["/etc:/host-etc"]},"hostconfig":{"Privileged":false}}`],
  ['duplicate Image with privileged first', (img) => `{"Image":"${img}","HostConfig":{"Privileged":true},"Image":"${img}"}`],
  // dockerd 20.10 reads the first value and ignores the rest; a filter might read the last.
  ['trailing object after the body', (img) => `{"Image":"${img}","HostConfig":{"Privileged":true}}{"Image":"${img}"}`],
  ['trailing object, benign first', (img) => `{"Image":"${img}"}{"Image":"${img}","HostConfig":{"Privileged":true}}`],
  ['trailing garbage', (img) => `{"Image":"${img}","HostConfig":{"Binds":["/:/host"]}} x`],
];

describe('body parsing differentials (Go encoding/json vs JavaScript)', () => {
  test.each(SPELLINGS)('%s: denied (403), nothing created at the daemon', async (_, make) => {
    const f = env();
    const before = await f.snapshot();
    const req = createAt(f.name('spell'), make(f.testImage, source));
    const x = await f.send(req);
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectDockgateRefusal(req, x, [403]);
  });

  test.each(AMBIGUOUS)('%s: refused (400), nothing created at the daemon', async (_, make) => {
    const f = env();
    const before = await f.snapshot();
    const req = createAt(f.name('ambig'), make(f.testImage));
    const x = await f.send(req);
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectDockgateRefusal(req, x, [400]);
  });

  test('invalid UTF-8 (Go would read U+FFFD) in a benign body: refused (400), nothing created', async () => {
    const f = env();
    const before = await f.snapshot();
    // Benign apart from the byte: a dockgate that passed it on would let the daemon create it.
    const body = Buffer.concat([Buffer.from(`{"Image":"${f.testImage}","Labels":{"note":"a`), Buffer.from([0xff, 0xfe]), Buffer.from('b"}}')]);
    const req = createAt(f.name('utf8'), body);
    const x = await f.send(req);
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectDockgateRefusal(req, x, [400]);
  });

  test('invalid UTF-8 in a key next to Privileged: refused (400), nothing created', async () => {
    const f = env();
    const before = await f.snapshot();
    const body = Buffer.concat([
      Buffer.from(`{"Image":"${f.testImage}","HostConfig":{"Privileged":true,"Privileged`),
      Buffer.from([0xc0]),
      Buffer.from('":false}}'),
    ]);
    const req = createAt(f.name('utf8key'), body);
    const x = await f.send(req);
    await expectNothingCreated(f.dockerSocket, before, describeExchange(req, x));
    expectDockgateRefusal(req, x, [400, 403]);
  });

  // Allowed by the test policy: what matters is that the daemon got exactly what was judged.
  test('bare string CapAdd "SYS_ADMIN" reaches the daemon as ["SYS_ADMIN"]', async () => {
    const f = env();
    const name = f.name('capadd');
    const req = createAt(name, `{"Image":"${f.testImage}","Cmd":["true"],"HostConfig":{"CapAdd":"SYS_ADMIN"}}`);
    const x = await f.send(req);
    expect(x.responses[0]?.status, describeExchange(req, x)).toBe(201);
    const c = await inspectContainer(f.dockerSocket, name);
    expect(c, 'created container not found at the daemon').toBeDefined();
    expect(c!.HostConfig.CapAdd).toEqual(['SYS_ADMIN']);
    expect(c!.HostConfig.Privileged).toBe(false);
    // The mutation of the test policy was applied to the same canonical object.
    expect(c!.Config.Labels?.['dockgate.test']).toBe('1');
  });

  // Twice: with the dockgate.test label already set the policy returns no patch, without it the
  // patch is applied to the canonical object before it is serialized.
  test.each([
    ['no patch applied', ',"Labels":{"dockgate.test":"1"}'],
    ['after the policy\'s label patch', ''],
  ])('an integer above 2^53 (Memory) is forwarded exactly (%s)', async (_, labels) => {
    const f = env();
    const name = f.name('bigint');
    const memory = '9007199254740993'; // 2^53 + 1: a JavaScript number would make it ...992
    const req = createAt(name, `{"Image":"${f.testImage}","Cmd":["true"],"HostConfig":{"Memory":${memory}}${labels}}`);
    const x = await f.send(req);
    expect(x.responses[0]?.status, describeExchange(req, x)).toBe(201);
    const c = await inspectContainer(f.dockerSocket, name);
    expect(c, 'created container not found at the daemon').toBeDefined();
    // The raw inspect text: parsing it in JavaScript would round the number again.
    expect(c!.raw).toMatch(new RegExp(`"Memory":${memory}[,}]`));
  });

  test('Kelvin sign (U+212A) in NetworKMode is the daemon\'s NetworkMode', async () => {
    const f = env();
    const name = f.name('kelvin-net');
    const req = createAt(name, `{"Image":"${f.testImage}","Cmd":["true"],"HostConfig":{"Networ\u212aMode":"none"}}`);
    const x = await f.send(req);
    expect(x.responses[0]?.status, describeExchange(req, x)).toBe(201);
    const c = await inspectContainer(f.dockerSocket, name);
    expect(c, 'created container not found at the daemon').toBeDefined();
    expect(c!.HostConfig.NetworkMode).toBe('none');
  });

  test('Kelvin sign (U+212A) in OomKillDisable reaches the daemon as OomKillDisable', async () => {
    const f = env();
    const name = f.name('kelvin-oom');
    const req = createAt(name, `{"Image":"${f.testImage}","Cmd":["true"],"HostConfig":{"Memory":67108864,"OomKillDisable":true}}`.replace('OomKill', 'Oom\u212aill'));
    const x = await f.send(req);
    expect(x.responses[0]?.status, describeExchange(req, x)).toBe(201);
    const c = await inspectContainer(f.dockerSocket, name);
    expect(c, 'created container not found at the daemon').toBeDefined();
    // A kernel without the knob makes dockerd drop it with a warning; either way the daemon saw it.
    const warnings = x.responses[0]!.json<{ Warnings: string[] | null }>().Warnings ?? [];
    const discarded = warnings.some((w) => /OomKillDisable/.test(w));
    expect(c!.HostConfig.OomKillDisable === true || discarded, `${c!.raw}\n${warnings.join('\n')}`).toBe(true);
  });

  test('map keys are not folded: a Labels key differing only in case stays a separate label', async () => {
    const f = env();
    const name = f.name('mapkeys');
    const req = createAt(name, `{"Image":"${f.testImage}","Cmd":["true"],"Labels":{"sec.k":"lower","SEC.K":"upper","sec.\u212a":"kelvin"}}`);
    const x = await f.send(req);
    expect(x.responses[0]?.status, describeExchange(req, x)).toBe(201);
    const c = await inspectContainer(f.dockerSocket, name);
    expect(c!.Config.Labels).toMatchObject({ 'sec.k': 'lower', 'SEC.K': 'upper', 'sec.\u212a': 'kelvin', 'dockgate.test': '1' });
  });

  test('a lower-case privileged:false next to nothing else is judged and allowed (control)', async () => {
    // Control for the denials above: the same spellings with a harmless value are not refused,
    // so a 403 above is the policy judging Privileged=true, not the spelling being rejected.
    const f = env();
    const before = await f.snapshot();
    const name = f.name('control');
    const req = createAt(name, `{"image":"${f.testImage}","cmd":["true"],"Ho\u017ftConfig":{"\\u0050rivileged":false}}`);
    const x = await f.send(req);
    expect(x.responses[0]?.status, describeExchange(req, x)).toBe(201);
    await expectNoHostAccessSince(f.dockerSocket, before);
    const res = await engineRequest(f.dockerSocket, 'GET', `/containers/${name}/json`);
    expect(res.status).toBe(200);
  });
});
