import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPatch } from '../../src/admission/json-patch.js';
import { parseBundle } from '../../src/policy/bundle.js';
import type { JsonObject, JsonValue, PolicyInput } from '../../src/policy/contract.js';
import { PolicyEngine } from '../../src/policy/engine.js';
import { PolicyError } from '../../src/policy/policy-error.js';
import { readTar } from '../../src/policy/tar.js';
import { containerCreate, containerCreateBody, policyInput } from './support/policy-inputs.js';
import { buildTarGz } from './support/tar-builder.js';

const dist = (name: string) => fileURLToPath(new URL(`../../policy/dist/${name}`, import.meta.url));
const TEST_BUNDLE = dist('test-deny-privileged.tar.gz');
const FIXTURES = dist('test-engine-fixtures.tar.gz');
const ENTRYPOINT = 'dockgate/test/decision';

function rules(decision: { violations: { rule: string; action: string }[] }): string[] {
  return decision.violations.map((v) => `${v.rule}:${v.action}`).sort();
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'dockgate-policy-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function writeTmp(name: string, data: Buffer | string): Promise<string> {
  const path = join(tmp, name);
  await writeFile(path, data);
  return path;
}

async function expectLoadError(path: string, pattern: RegExp, entrypoint = ENTRYPOINT): Promise<void> {
  const err = await PolicyEngine.load(path, { entrypoint }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PolicyError);
  expect((err as PolicyError).stage).toBe('load');
  expect((err as PolicyError).message).toMatch(pattern);
}

describe('PolicyEngine with the deny-privileged test bundle', () => {
  let engine: PolicyEngine;
  beforeAll(async () => {
    engine = await PolicyEngine.load(TEST_BUNDLE, { entrypoint: ENTRYPOINT });
  });

  it('reads the revision from the bundle manifest', async () => {
    const manifest = JSON.parse(
      readTar(gunzipSync(await readFile(TEST_BUNDLE)), { maxEntries: 10, maxEntryBytes: 1 << 24 })
        .find((e) => e.path === '.manifest')!
        .data.toString(),
    ) as { revision: string };
    expect(manifest.revision).toMatch(/^test-deny-privileged-[0-9a-f]{16}$/);
    expect(engine.revision).toBe(manifest.revision);
    expect(engine.entrypoints).toEqual([ENTRYPOINT]);
  });

  it('decides the same on an input given as JSON text (as the decision worker gets it)', () => {
    const inputs = [containerCreate(), containerCreate({ HostConfig: { Privileged: true } }), policyInput('system', 'ping')];
    for (const input of inputs) expect(engine.evaluateSerialized(JSON.stringify(input))).toEqual(engine.evaluate(input));
    expect(engine.evaluateSerialized(JSON.stringify(inputs[1])).allowed).toBe(false);
  });

  it('allows a typical create and adds the test label by patch', () => {
    const decision = engine.evaluate(containerCreate());
    expect(decision).toEqual({
      allowed: true,
      violations: [],
      patch: [{ op: 'add', path: '/Labels/dockgate.test', value: '1' }],
      warnings: ['label dockgate.test=1 added by rule test-label'],
      revision: engine.revision,
    });
  });

  it('patches until the policy has nothing to add (the patch applies and settles)', () => {
    const input = containerCreate({ Labels: null });
    const first = engine.evaluate(input);
    expect(first.patch).toEqual([{ op: 'add', path: '/Labels', value: { 'dockgate.test': '1' } }]);
    const patched = applyPatch(input.object!, first.patch) as JsonObject;
    expect(patched.Labels).toEqual({ 'dockgate.test': '1' });
    const second = engine.evaluate({ ...input, object: patched });
    expect(second.patch).toEqual([]);
    expect(second.allowed).toBe(true);
  });

  it('denies a privileged container', () => {
    const decision = engine.evaluate(containerCreate({ HostConfig: { Privileged: true } }));
    expect(decision.allowed).toBe(false);
    expect(decision.violations).toContainEqual({
      rule: 'no-privileged',
      message: 'privileged containers are not allowed: remove --privileged',
      action: 'deny',
    });
  });

  it.each<[string, JsonObject]>([
    ['an absolute bind', { Binds: ['data:/data', '/var/run/docker.sock:/var/run/docker.sock'] }],
    ['a bind mount', { Mounts: [{ Type: 'bind', Source: '/', Target: '/host' }] }],
    [
      'a volume mount with local bind options',
      { Mounts: [{ Type: 'volume', Source: 'v', Target: '/v', VolumeOptions: { DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind', device: '/etc' } } } }] },
    ],
  ])('denies %s', (_name, hostConfig) => {
    const decision = engine.evaluate(containerCreate({ HostConfig: hostConfig }));
    expect(decision.allowed).toBe(false);
    expect(rules(decision)).toEqual(['no-host-binds:deny']);
  });

  it('denies --volumes-from', () => {
    const decision = engine.evaluate(containerCreate({ HostConfig: { VolumesFrom: ['other'] } }));
    expect(rules(decision)).toEqual(['no-volumes-from:deny']);
    expect(decision.allowed).toBe(false);
  });

  it('reports warn and audit violations without denying', () => {
    const decision = engine.evaluate(containerCreate({ Image: 'nginx', HostConfig: { NetworkMode: 'host' } }));
    expect(decision.allowed).toBe(true);
    expect(rules(decision)).toEqual(['host-network:audit', 'latest-tag:warn']);
    expect(decision.warnings).toContain('image nginx is not pinned: use a version tag or digest');
  });

  it('denies a privileged exec and allows a plain one, without patches', () => {
    const denied = engine.evaluate(policyInput('container', 'exec', { Cmd: ['sh'], Privileged: true }, 'web'));
    expect(denied.allowed).toBe(false);
    expect(rules(denied)).toEqual(['no-privileged-exec:deny']);
    const allowed = engine.evaluate(policyInput('container', 'exec', { Cmd: ['sh'], Privileged: false }, 'web'));
    expect(allowed).toMatchObject({ allowed: true, violations: [], patch: [], warnings: [] });
  });

  it('denies a local volume bound to a host path', () => {
    const denied = engine.evaluate(policyInput('volume', 'create', { Name: 'v', Driver: 'local', DriverOpts: { type: 'none', o: 'bind', device: '/etc' } }));
    expect(rules(denied)).toEqual(['no-host-volumes:deny']);
    const allowed = engine.evaluate(policyInput('volume', 'create', { Name: 'v', Driver: 'local', DriverOpts: {} }));
    expect(allowed.allowed).toBe(true);
  });

  it('refuses an entrypoint the module does not have', async () => {
    await expectLoadError(TEST_BUNDLE, /entrypoint "dockgate\/test\/nope" is not in the bundle manifest/, 'dockgate/test/nope');
  });
});

describe('PolicyEngine loading', () => {
  it('loads a bare .wasm module with data given by the caller', async () => {
    const bundle = parseBundle(await readFile(FIXTURES));
    const wasmPath = await writeTmp('fixtures.wasm', Buffer.from(bundle.wasm));
    const engine = await PolicyEngine.load(wasmPath, { entrypoint: 'dockgate/fixtures/params', data: { params: { only: 'config' } } });
    expect(engine.revision).toBeUndefined();
    expect(engine.evaluate(policyInput('system', 'ping')).warnings.map((w) => JSON.parse(w) as JsonValue)).toEqual([{ only: 'config' }]);
  });

  it("merges the caller's data over the bundle's data.json", async () => {
    const engine = await PolicyEngine.load(FIXTURES, {
      entrypoint: 'dockgate/fixtures/params',
      data: { params: { nested: { y: 3 }, b: 2 } },
    });
    const [seen] = engine.evaluate(policyInput('system', 'ping')).warnings;
    expect(JSON.parse(seen!)).toEqual({ a: 1, b: 2, nested: { x: 1, y: 3 } });
  });

  it('keeps a "__proto__" key in the data as data', async () => {
    const data = JSON.parse('{"params": {"__proto__": {"x": 1}}}') as object;
    const engine = await PolicyEngine.load(FIXTURES, { entrypoint: 'dockgate/fixtures/params', data });
    const [seen] = engine.evaluate(policyInput('system', 'ping')).warnings;
    const parsed = JSON.parse(seen!) as Record<string, unknown>;
    expect(Object.keys(parsed).sort()).toEqual(['__proto__', 'a', 'nested']);
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toEqual({ x: 1 });
  });

  it('throws for a missing file', async () => {
    await expectLoadError(join(tmp, 'nope.tar.gz'), /cannot read policy bundle .*nope\.tar\.gz/);
  });

  it('throws for a truncated archive', async () => {
    const bytes = await readFile(TEST_BUNDLE);
    await expectLoadError(await writeTmp('truncated.tar.gz', bytes.subarray(0, bytes.length >> 1)), /gzip/);
  });

  it('throws for a corrupted archive', async () => {
    const bytes = Buffer.from(await readFile(TEST_BUNDLE));
    for (let i = 64; i < bytes.length - 64; i += 97) bytes[i]! ^= 0x5a;
    await expectLoadError(await writeTmp('corrupt.tar.gz', bytes), /gzip/);
  });

  it('throws for a file that is neither gzip nor wasm', async () => {
    await expectLoadError(await writeTmp('policy.rego', 'package x\n'), /neither a gzip archive .* nor a WebAssembly module/);
  });

  it('throws when policy.wasm is not a valid module', async () => {
    const wasm = Buffer.concat([Buffer.from('\0asm\x01\0\0\0'), Buffer.from('garbage')]);
    await expectLoadError(await writeTmp('bad-wasm.tar.gz', buildTarGz([{ name: '/policy.wasm', data: wasm }])), /does not compile/);
  });

  it('throws when the bundle has no policy.wasm', async () => {
    await expectLoadError(await writeTmp('no-wasm.tar.gz', buildTarGz([{ name: '/data.json', data: '{}' }])), /no policy\.wasm/);
  });

  it('rejects a memory cap the module cannot start in, and a malformed one', async () => {
    const tooSmall = await PolicyEngine.load(TEST_BUNDLE, { entrypoint: ENTRYPOINT, memoryPages: { initial: 1, maximum: 1 } }).catch((e: unknown) => e);
    expect(tooSmall).toBeInstanceOf(PolicyError);
    expect((tooSmall as Error).message).toMatch(/policy module does not start: .*memory/);
    await expect(PolicyEngine.load(TEST_BUNDLE, { entrypoint: ENTRYPOINT, memoryPages: { initial: 4, maximum: 2 } })).rejects.toThrow(/memoryPages/);
  });
});

describe('PolicyEngine failures (fail closed)', () => {
  let fixtures: Record<string, PolicyEngine>;
  beforeAll(async () => {
    fixtures = {};
    for (const name of ['echo', 'conflict', 'undefined_unless', 'memory_hog', 'js_builtins']) {
      fixtures[name] = await PolicyEngine.load(FIXTURES, { entrypoint: `dockgate/fixtures/${name}`, memoryPages: { initial: 16, maximum: 64 } });
    }
  });

  function withFields(fields: JsonObject): PolicyInput {
    return { ...policyInput('container', 'create', containerCreateBody()), ...fields } as PolicyInput;
  }

  function evaluateError(engine: PolicyEngine, input: PolicyInput): PolicyError {
    try {
      engine.evaluate(input);
    } catch (err) {
      expect(err).toBeInstanceOf(PolicyError);
      return err as PolicyError;
    }
    throw new Error('evaluate() did not throw');
  }

  it('throws on a runtime conflict in the Rego (two values for a complete rule)', () => {
    expect(fixtures.conflict!.evaluate(withFields({ a: 'x', b: 'x' })).warnings).toEqual(['x']);
    const err = evaluateError(fixtures.conflict!, withFields({ a: 'x', b: 'y' }));
    expect(err.stage).toBe('evaluate');
    expect(err.message).toMatch(/dockgate\/fixtures\/conflict failed: .*conflict/);
  });

  it('keeps working after many runtime errors (each would leak wasm stack)', () => {
    // Without a fresh instance after an abort, opa-wasm's instance breaks after ~500 of them.
    for (let i = 0; i < 1000; i++) evaluateError(fixtures.conflict!, withFields({ a: 'x', b: 'y' }));
    expect(fixtures.conflict!.evaluate(withFields({ a: 'ok', b: 'ok' })).warnings).toEqual(['ok']);
    // 1000 re-instantiations take ~0.4 s on an idle machine; a loaded CI host needs more than 5 s.
  }, 60_000);

  it('throws when the entrypoint is undefined for the input', () => {
    expect(fixtures.undefined_unless!.evaluate(withFields({ defined: true })).allowed).toBe(true);
    const err = evaluateError(fixtures.undefined_unless!, withFields({ defined: false }));
    expect(err.stage).toBe('result');
    expect(err.message).toMatch(/undefined for this input/);
  });

  it('passes a well-formed result through the wasm path unchanged', () => {
    const result = {
      allowed: false,
      violations: [{ rule: 'r', message: 'm', action: 'deny' }],
      patch: [{ op: 'move', from: '/a', path: '/b' }],
      warnings: ['w'],
    };
    expect(fixtures.echo!.evaluate(withFields({ result }))).toEqual({ ...result, revision: fixtures.echo!.revision });
  });

  it.each<[string, JsonValue]>([
    ['a non-object', [true]],
    ['no "allowed"', { violations: [] }],
    ['a string "allowed"', { allowed: 'true' }],
    ['an unknown field', { allowed: true, patches: [] }],
    ['violations as an object', { allowed: false, violations: { rule: 'r' } }],
    ['an unknown action', { allowed: false, violations: [{ rule: 'r', message: 'm', action: 'block' }] }],
    ['an empty rule id', { allowed: false, violations: [{ rule: '', message: 'm', action: 'deny' }] }],
    ['a violation without message', { allowed: false, violations: [{ rule: 'r', action: 'deny' }] }],
    ['allowed with a deny violation', { allowed: true, violations: [{ rule: 'r', message: 'm', action: 'deny' }] }],
    ['an unknown patch op', { allowed: true, patch: [{ op: 'merge', path: '/a', value: 1 }] }],
    ['a patch op without value', { allowed: true, patch: [{ op: 'add', path: '/a' }] }],
    ['a patch path that is not a pointer', { allowed: true, patch: [{ op: 'remove', path: 'a/b' }] }],
    ['a bad pointer escape', { allowed: true, patch: [{ op: 'remove', path: '/a~2' }] }],
    ['a move without from', { allowed: true, patch: [{ op: 'move', path: '/a' }] }],
    ['a warning that is not a string', { allowed: true, warnings: [1] }],
  ])('throws for a result with %s', (_name, result) => {
    const err = evaluateError(fixtures.echo!, withFields({ result }));
    expect(err.stage).toBe('result');
    expect(err.message).toMatch(/^policy result: /);
  });

  it('throws when the policy runs out of its memory cap, then recovers', () => {
    expect(fixtures.memory_hog!.evaluate(withFields({ n: 1000 })).warnings).toEqual(['1000']);
    const err = evaluateError(fixtures.memory_hog!, withFields({ n: 5_000_000 }));
    expect(err.stage).toBe('evaluate');
    expect(err.message).toMatch(/policy memory limit: 64 pages/);
    expect(fixtures.memory_hog!.evaluate(withFields({ n: 10 })).warnings).toEqual(['10']);
  });

  it('throws when the input itself does not fit the memory cap, then recovers', () => {
    const big = withFields({ defined: true, filler: 'x'.repeat(8 * 1024 * 1024) });
    const err = evaluateError(fixtures.undefined_unless!, big);
    expect(err.stage).toBe('evaluate');
    expect(err.message).toMatch(/policy memory limit: 64 pages/);
    expect(fixtures.undefined_unless!.evaluate(withFields({ defined: true })).allowed).toBe(true);
  });

  it('runs the builtins opa-wasm implements in JavaScript', () => {
    expect(fixtures.js_builtins!.evaluate(withFields({ s: 'a,b,c' })).warnings).toEqual(['a,b,c has 3 parts']);
  });
});

describe('a gzip bomb', () => {
  it('is refused at the unpacked-size limit', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const path = await writeTmp('bomb.tar.gz', bomb);
    const err = await PolicyEngine.load(path, { entrypoint: ENTRYPOINT, limits: { maxUnpackedBytes: 8 * 1024 * 1024 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as Error).message).toMatch(/unpacks past 8388608 bytes/);
  });
});
