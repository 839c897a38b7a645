import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { PolicyBundle } from '../../src/policy/bundle.js';
import { canonicalJson, verifyBundle, type BundleVerification } from '../../src/policy/bundle-signature.js';
import { readTar } from '../../src/policy/tar.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`fixtures/signed-bundle/${name}`, import.meta.url)));

// Just the parts verification reads (these OPA bundles carry Rego, no wasm).
function opaBundle(name: string): PolicyBundle {
  const files = readTar(gunzipSync(fixture(name)), { maxEntries: 20, maxEntryBytes: 1 << 20 });
  return { wasm: new Uint8Array(), data: undefined, manifest: undefined, files, signatures: files.find((f) => f.path === '.signatures.json')?.data };
}

const rsKeys: BundleVerification = { keys: { default: { algorithm: 'RS256', key: fixture('rs256.pub.pem').toString() } } };
const esKeys: BundleVerification = { keys: { default: { algorithm: 'ES256', key: fixture('es256.pub.pem').toString() } } };

function verifyError(bundle: PolicyBundle, config: BundleVerification | undefined): string {
  try {
    verifyBundle(bundle, config);
  } catch (err) {
    return (err as Error).message;
  }
  return 'verified';
}

function withFile(bundle: PolicyBundle, path: string, data: string | undefined): PolicyBundle {
  const files = bundle.files.filter((f) => f.path !== path);
  if (data !== undefined) files.push({ path, data: Buffer.from(data) });
  return { ...bundle, files };
}

describe('bundle signatures (OPA .signatures.json)', () => {
  it('verifies bundles signed by opa build, RS256 and ES256', () => {
    expect(verifyError(opaBundle('rs256.tar.gz'), rsKeys)).toBe('verified');
    expect(verifyError(opaBundle('es256.tar.gz'), esKeys)).toBe('verified');
  });

  it('refuses the other key, a changed file, an added file, a removed file', () => {
    const rs = opaBundle('rs256.tar.gz');
    expect(verifyError(rs, { keys: { default: { ...esKeys.keys.default! } } })).toMatch(/algorithm "RS256" is not key "default"'s ES256/);
    const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyError(rs, { keys: { default: { algorithm: 'RS256', key: otherRsa } } })).toMatch(/does not verify with key "default"/);
    expect(verifyError(withFile(rs, 'data.json', '{"z": 1}'), rsKeys)).toMatch(/data\.json does not match its signed hash/);
    expect(verifyError(withFile(rs, 'extra.rego', 'package x'), rsKeys)).toMatch(/extra\.rego is in the bundle but not in the signature/);
    expect(verifyError(withFile(rs, 'data.json', undefined), rsKeys)).toMatch(/data\.json is in the signature but not in the bundle/);
    expect(verifyError(rs, { ...rsKeys, scope: 'prod' })).toMatch(/scope/);
  });

  it('refuses an unsigned bundle when keys are configured, and a signed one when none are', () => {
    const rs = opaBundle('rs256.tar.gz');
    expect(verifyError({ ...rs, signatures: undefined }, rsKeys)).toMatch(/not signed/);
    expect(verifyError(rs, undefined)).toMatch(/signed, but no verification keys are configured/);
    expect(verifyError({ ...rs, signatures: undefined }, undefined)).toBe('verified');
  });

  it('refuses a key id that is not configured and a forged alg none', () => {
    const rs = opaBundle('rs256.tar.gz');
    expect(verifyError(rs, { keys: { other: rsKeys.keys.default! } })).toMatch(/key "default", which is not configured/);
    const jwt = (JSON.parse(rs.signatures!.toString()) as { signatures: string[] }).signatures[0]!;
    const [, payload] = jwt.split('.');
    const none = `${Buffer.from('{"alg":"none","kid":"default"}').toString('base64url')}.${payload}.`;
    expect(verifyError({ ...rs, signatures: Buffer.from(JSON.stringify({ signatures: [none] })) }, rsKeys)).toMatch(/algorithm "none"/);
  });

  it('verifies an ES256 JWT signed with node:crypto (raw r||s signature)', () => {
    const rs = opaBundle('rs256.tar.gz');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwt = (JSON.parse(rs.signatures!.toString()) as { signatures: string[] }).signatures[0]!;
    const input = `${Buffer.from('{"alg":"ES256","kid":"k1"}').toString('base64url')}.${jwt.split('.')[1]}`;
    const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    const bundle = { ...rs, signatures: Buffer.from(JSON.stringify({ signatures: [`${input}.${sig}`] })) };
    const key = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyError(bundle, { keys: { k1: { algorithm: 'ES256', key } } })).toBe('verified');
  });

  it('hashes JSON canonically as OPA does: sorted keys, numbers as written, no HTML escaping', () => {
    expect(canonicalJson(Buffer.from('{ "b": [1.50, 1e2], "a": "<&>\u2028" }'))).toBe('{"a":"<&>\\u2028","b":[1.50,1e2]}');
  });
});
