import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BUNDLE_LIMITS, parseBundle } from '../../src/policy/bundle.js';
import { PolicyError } from '../../src/policy/policy-error.js';
import { readTar } from '../../src/policy/tar.js';
import { buildTar, buildTarGz, type TarFile } from './support/tar-builder.js';

const TEST_BUNDLE = fileURLToPath(new URL('../../policy/dist/test-deny-privileged.tar.gz', import.meta.url));
const LIMITS = { maxEntries: 100, maxEntryBytes: 1 << 20 };
const WASM = Buffer.from('\0asm\x01\0\0\0');

function loadError(bytes: Buffer, limits = DEFAULT_BUNDLE_LIMITS): PolicyError {
  try {
    parseBundle(bytes, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as PolicyError).stage).toBe('load');
    return err as PolicyError;
  }
  throw new Error('parseBundle() did not throw');
}

describe('readTar', () => {
  it('reads what opa build writes (leading "/" names)', async () => {
    const entries = readTar(gunzipSync(await readFile(TEST_BUNDLE)), { maxEntries: 10, maxEntryBytes: 1 << 24 });
    expect(entries.map((e) => e.path).sort()).toEqual(['.manifest', 'data.json', 'policy.rego', 'policy.wasm']);
  });

  it('reads files, ustar prefixes and "./" names', () => {
    const entries = readTar(
      buildTar([
        { name: 'a.txt', data: 'hello' },
        { name: 'b.rego', prefix: 'dir/sub', data: 'x'.repeat(700) },
        { name: './c', data: '' },
      ]),
      LIMITS,
    );
    expect(entries.map((e) => [e.path, e.data.toString()])).toEqual([
      ['a.txt', 'hello'],
      ['dir/sub/b.rego', 'x'.repeat(700)],
      ['c', ''],
    ]);
  });

  it.each<[string, TarFile[], RegExp]>([
    ['path traversal', [{ name: '../etc/passwd', data: 'x' }], /refusing entry name/],
    ['traversal in the middle', [{ name: 'a/../../b', data: 'x' }], /refusing entry name/],
    ['traversal via the prefix', [{ name: 'x', prefix: '..', data: 'x' }], /refusing entry name/],
    ['an empty segment', [{ name: 'a//b', data: 'x' }], /refusing entry name/],
    ['a backslash', [{ name: 'a\\..\\b', data: 'x' }], /refusing entry name/],
    ['an empty name', [{ name: '', data: 'x' }], /refusing entry name/],
    ['a symlink', [{ name: 'policy.wasm', type: '2', linkname: '/etc/passwd' }], /not a regular file/],
    ['a hard link', [{ name: 'policy.wasm', type: '1', linkname: 'x' }], /not a regular file/],
    ['a directory', [{ name: 'dir/', type: '5' }], /refusing entry name|not a regular file/],
    ['a PAX header', [{ name: 'PaxHeaders/x', type: 'x', data: '30 path=../../../../etc/passwd\n' }], /not a regular file/],
    ['a bad checksum', [{ name: 'a', data: 'x', badChecksum: true }], /checksum/],
    ['a duplicate name', [{ name: '/a', data: 'x' }, { name: 'a', data: 'y' }], /duplicate/],
    ['an oversized entry', [{ name: 'a', data: Buffer.alloc((1 << 20) + 1) }], /over the 1048576-byte limit/],
    ['a size beyond the data', [{ name: 'a', data: 'x', size: 4096 }], /truncated/],
  ])('refuses %s', (_name, files, pattern) => {
    expect(() => readTar(buildTar(files), LIMITS)).toThrow(pattern);
  });

  it('refuses too many entries', () => {
    const files = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, data: 'x' }));
    expect(() => readTar(buildTar(files), { ...LIMITS, maxEntries: 4 })).toThrow(/more than 4 entries/);
  });

  it('refuses an archive without end marker or with data after it', () => {
    expect(() => readTar(buildTar([{ name: 'a', data: 'x' }], Buffer.alloc(0)), LIMITS)).toThrow(/truncated/);
    const trailing = Buffer.concat([Buffer.alloc(1024), Buffer.from('junk')]);
    expect(() => readTar(buildTar([{ name: 'a', data: 'x' }], trailing), LIMITS)).toThrow(/after the end-of-archive/);
  });
});

describe('parseBundle', () => {
  let real: Buffer;
  beforeAll(async () => {
    real = await readFile(TEST_BUNDLE);
  });

  it('parses the built bundle: wasm, data and manifest', () => {
    const bundle = parseBundle(real);
    expect(Buffer.from(bundle.wasm.subarray(0, 4))).toEqual(WASM.subarray(0, 4));
    expect(bundle.data).toEqual({});
    expect(bundle.manifest?.revision).toMatch(/^test-deny-privileged-/);
    expect(bundle.manifest?.wasm).toEqual([{ entrypoint: 'dockgate/test/decision', module: '/policy.wasm' }]);
  });

  it('takes a bare wasm module as is', () => {
    expect(parseBundle(WASM)).toEqual({ wasm: WASM, data: undefined, manifest: undefined, files: [], signatures: undefined });
  });

  it.each<[string, TarFile[], RegExp]>([
    ['no policy.wasm', [{ name: '/data.json', data: '{}' }], /no policy\.wasm/],
    ['a policy.wasm that is not wasm', [{ name: '/policy.wasm', data: 'MZ' }], /not a WebAssembly module/],
    ['data.json that is not JSON', [{ name: '/policy.wasm', data: WASM }, { name: '/data.json', data: '{' }], /data\.json is not valid JSON/],
    ['data.json that is an array', [{ name: '/policy.wasm', data: WASM }, { name: '/data.json', data: '[]' }], /data\.json must be a JSON object/],
    ['a manifest with a numeric revision', [{ name: '/policy.wasm', data: WASM }, { name: '/.manifest', data: '{"revision": 1}' }], /revision/],
    [
      'a manifest naming another module',
      [{ name: '/policy.wasm', data: WASM }, { name: '/.manifest', data: '{"wasm": [{"entrypoint": "a", "module": "/other.wasm"}]}' }],
      /only \/policy\.wasm/,
    ],
    ['a second wasm module', [{ name: '/policy.wasm', data: WASM }, { name: '/other.wasm', data: WASM }], /unexpected file "other\.wasm"/],
    ['nested data', [{ name: '/policy.wasm', data: WASM }, { name: '/x/data.json', data: '{}' }], /unexpected file "x\/data\.json"/],
    ['a traversal name', [{ name: '/policy.wasm', data: WASM }, { name: '/../x.rego', data: '' }], /refusing entry name/],
  ])('refuses a bundle with %s', (_name, files, pattern) => {
    expect(loadError(buildTarGz(files)).message).toMatch(pattern);
  });

  it('keeps .signatures.json and every file as stored, for verification', () => {
    const bundle = parseBundle(buildTarGz([{ name: '/policy.wasm', data: WASM }, { name: '/.signatures.json', data: '{"signatures": []}' }]));
    expect(bundle.signatures?.toString()).toBe('{"signatures": []}');
    expect(bundle.files.map((f) => f.path)).toEqual(['policy.wasm', '.signatures.json']);
  });

  it('refuses files over the size limit and gzip that unpacks past the limit', () => {
    const limits = { ...DEFAULT_BUNDLE_LIMITS, maxFileBytes: 1000, maxUnpackedBytes: 4096 };
    expect(loadError(Buffer.concat([WASM, Buffer.alloc(1000)]), limits).message).toMatch(/over the 1000-byte limit/);
    expect(loadError(gzipSync(Buffer.alloc(8192)), limits).message).toMatch(/unpacks past 4096 bytes/);
  });

  it('refuses anything else', () => {
    expect(loadError(Buffer.from('PK\x03\x04')).message).toMatch(/neither/);
    expect(loadError(Buffer.alloc(0)).message).toMatch(/neither/);
    expect(loadError(Buffer.from([0x1f, 0x8b, 0, 0])).message).toMatch(/gzip/);
  });
});
