// Bundle signature verification as OPA does it (`opa build --signing-key`, OPA's bundle/verify.go):
// `.signatures.json` holds `{"signatures": ["<JWT>"]}`; the JWT, signed with a key named by its
// `kid` header (or the payload's `keyid`, or the configured default), lists every file of the
// bundle with its hash. The bundle is accepted only when the signature verifies with the configured
// key, every file is listed with a matching hash, and every listed file is there.
import { createHash, createHmac, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { SIGNATURES_PATH, type PolicyBundle } from './bundle.js';
import { PolicyError } from './policy-error.js';

export type SigningAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'HS256' | 'HS384' | 'HS512';
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512'];

export interface VerificationKey {
  algorithm: SigningAlgorithm;
  /** PEM public key or certificate; for HS* the shared secret. */
  key: string;
}

export interface BundleVerification {
  /** Key id → key. */
  keys: Record<string, VerificationKey>;
  /** Key id used when the signature names none. */
  keyId?: string;
  /** When set, the signature's `scope` must equal it. */
  scope?: string;
  /** Bundle files left out of the check (OPA's exclude_files), exact names. */
  excludeFiles?: string[];
}

interface SignedFile {
  name: string;
  hash: string;
  algorithm?: string;
}

const HASHES: Record<string, string> = { 'MD5': 'md5', 'SHA-1': 'sha1', 'SHA-224': 'sha224', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512', 'SHA-512-224': 'sha512-224', 'SHA-512-256': 'sha512-256' };

function fail(message: string): never {
  throw new PolicyError('load', `bundle signature: ${message}`);
}

function base64urlJson(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    fail(`the JWT ${what} is not base64url JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`the JWT ${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

// Go's encoding/json string form as OPA uses it: no HTML escaping, but U+2028/U+2029 escaped.
function goString(s: string): string {
  return JSON.stringify(s).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

type Canonical = { num: string } | string | boolean | null | Canonical[] | { [k: string]: Canonical };

function writeCanonical(v: Canonical): string {
  if (v === null || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return goString(v);
  if (Array.isArray(v)) return `[${v.map(writeCanonical).join(',')}]`;
  if (v instanceof NumberText) return v.num;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${goString(k)}:${writeCanonical((v as Record<string, Canonical>)[k]!)}`).join(',')}}`;
}

class NumberText {
  constructor(readonly num: string) {}
}

/**
 * OPA hashes JSON files (data.json, .manifest) in a canonical form: keys sorted, no whitespace,
 * numbers as written. Other files are hashed as stored.
 */
export function canonicalJson(bytes: Buffer): string {
  // The reviver's source text keeps numbers as written (1.50 stays 1.50, big integers stay exact).
  const value = JSON.parse(bytes.toString('utf8'), (key, val, context?: { source?: string }) =>
    typeof val === 'number' ? new NumberText(context?.source ?? String(val)) : val,
  ) as Canonical;
  return writeCanonical(value);
}

function fileDigest(name: string, data: Buffer, algorithm: string): string {
  const nodeName = HASHES[algorithm];
  if (!nodeName) fail(`file ${name}: unsupported hash algorithm ${JSON.stringify(algorithm)}`);
  const isJson = name === '.manifest' || name.endsWith('.json');
  let content: Buffer | string = data;
  if (isJson) {
    try {
      content = canonicalJson(data);
    } catch {
      fail(`file ${name} is not valid JSON`);
    }
  }
  return createHash(nodeName).update(content).digest('hex');
}

function publicKey(id: string, key: VerificationKey): KeyObject {
  try {
    return createPublicKey(key.key);
  } catch (err) {
    fail(`key ${JSON.stringify(id)} is not a PEM public key or certificate: ${(err as Error).message}`);
  }
}

function checkJwtSignature(id: string, key: VerificationKey, signingInput: string, signature: Buffer): boolean {
  const alg = key.algorithm;
  const bits = alg.slice(2);
  const digest = `sha${bits}`;
  if (alg.startsWith('HS')) {
    const expected = createHmac(digest, key.key).update(signingInput).digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  }
  const pub = publicKey(id, key);
  const data = Buffer.from(signingInput);
  if (alg.startsWith('ES')) return verify(digest, data, { key: pub, dsaEncoding: 'ieee-p1363' }, signature);
  if (alg.startsWith('PS')) return verify(digest, data, { key: pub, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: Number(bits) / 8 }, signature);
  return verify(digest, data, pub, signature);
}

function parseSignatures(raw: Buffer): string {
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    fail(`${SIGNATURES_PATH} is not valid JSON`);
  }
  const sigs = (doc as { signatures?: unknown } | null)?.signatures;
  if (!Array.isArray(sigs) || sigs.length === 0) fail(`${SIGNATURES_PATH} holds no signatures`);
  if (sigs.length > 1) fail(`${SIGNATURES_PATH} holds ${sigs.length} signatures; exactly one is supported (as in OPA)`);
  if (typeof sigs[0] !== 'string') fail(`${SIGNATURES_PATH}: the signature must be a JWT string`);
  return sigs[0];
}

/**
 * Verifies a bundle against the configured keys. Without a configuration, a signed bundle is
 * refused too: its signature would go unchecked, which is not what whoever signed it meant.
 * Throws PolicyError('load').
 */
export function verifyBundle(bundle: PolicyBundle, config: BundleVerification | undefined): void {
  if (config === undefined) {
    if (bundle.signatures !== undefined) fail('the bundle is signed, but no verification keys are configured (bundleSigning.keys)');
    return;
  }
  if (bundle.signatures === undefined) fail(`the bundle is not signed (no ${SIGNATURES_PATH}), but signing keys are configured`);
  const jwt = parseSignatures(bundle.signatures);
  const parts = jwt.split('.');
  if (parts.length !== 3) fail('the signature is not a compact JWT (header.payload.signature)');
  const [h, p, s] = parts as [string, string, string];
  const header = base64urlJson(h, 'header');
  const payload = base64urlJson(p, 'payload');

  const kid = typeof header.kid === 'string' ? header.kid : typeof payload.keyid === 'string' ? payload.keyid : config.keyId;
  if (kid === undefined) fail('the signature names no key id (kid) and no default keyId is configured');
  const key = Object.hasOwn(config.keys, kid) ? config.keys[kid] : undefined;
  if (!key) fail(`the bundle is signed with key ${JSON.stringify(kid)}, which is not configured`);
  if (header.alg !== key.algorithm) fail(`the signature's algorithm ${JSON.stringify(header.alg)} is not key ${JSON.stringify(kid)}'s ${key.algorithm}`);
  if (!checkJwtSignature(kid, key, `${h}.${p}`, Buffer.from(s, 'base64url'))) fail(`the signature does not verify with key ${JSON.stringify(kid)}`);

  if (config.scope !== undefined && payload.scope !== config.scope) fail(`the signature's scope ${JSON.stringify(payload.scope)} is not the configured ${JSON.stringify(config.scope)}`);
  const listed = payload.files;
  if (!Array.isArray(listed)) fail('the signed payload has no files list');
  const signed = new Map<string, SignedFile>();
  for (const f of listed as SignedFile[]) {
    if (typeof f?.name !== 'string' || typeof f.hash !== 'string') fail('a signed files entry lacks name or hash');
    signed.set(f.name.replace(/^\//, ''), f);
  }
  const excluded = new Set(config.excludeFiles ?? []);
  for (const file of bundle.files) {
    if (file.path === SIGNATURES_PATH || excluded.has(file.path)) continue;
    const entry = signed.get(file.path);
    if (!entry) fail(`file ${file.path} is in the bundle but not in the signature`);
    signed.delete(file.path);
    if (fileDigest(file.path, file.data, entry.algorithm ?? 'SHA-256') !== entry.hash.toLowerCase()) fail(`file ${file.path} does not match its signed hash`);
  }
  for (const name of signed.keys()) if (!excluded.has(name)) fail(`file ${name} is in the signature but not in the bundle`);
}
