// The config sections of policy distribution and decision-log shipping: `bundleService`,
// `bundleSigning` and `decisionLogs`. Each parser takes the raw YAML value and returns checked,
// defaulted settings or throws ConfigError naming the key.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SIGNING_ALGORITHMS, type BundleVerification, type SigningAlgorithm, type VerificationKey } from '../policy/bundle-signature.js';

export class DistributionConfigError extends Error {}

export interface BundleServiceConfig {
  /** The bundle's URL: GET returns the .tar.gz (OPA's `<service url>/<resource>`). */
  url: string;
  /** Sent with every request (e.g. Authorization). */
  headers: Record<string, string>;
  pollingMinDelaySeconds: number;
  pollingMaxDelaySeconds: number;
  /** > 0: ask the server to hold the request up to this long (`Prefer: wait=N`); 0: plain polling. */
  longPollingTimeoutSeconds: number;
}

export interface DecisionLogsConfig {
  /** Where batches are POSTed (gzip JSON arrays of events). */
  url?: string;
  headers: Record<string, string>;
  /** Where events are appended as JSON lines. */
  file?: string;
  /** JSON pointers (`/input/object/Env`) removed from every event before it leaves. */
  mask: string[];
  /** Added to every event's labels. */
  labels: Record<string, string>;
  /** Events waiting for upload are kept up to this many bytes; beyond, the oldest are dropped. */
  maxBufferBytes: number;
  /** One POST carries at most this many bytes of events (before gzip). */
  maxBatchBytes: number;
  uploadMinDelaySeconds: number;
  uploadMaxDelaySeconds: number;
  /** Upper bound of the retry backoff after failed uploads. */
  retryMaxDelaySeconds: number;
}

type Raw = Record<string, unknown>;

function fail(where: string, message: string): never {
  throw new DistributionConfigError(`${where}: ${message}`);
}

function record(raw: unknown, where: string): Raw {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(where, 'must be a mapping');
  return raw as Raw;
}

function onlyKeys(raw: Raw, where: string, known: string[]): void {
  for (const key of Object.keys(raw)) if (!known.includes(key)) fail(where, `unknown setting "${key}"`);
}

function url(raw: unknown, where: string): string {
  if (typeof raw !== 'string') fail(where, 'required URL');
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    fail(where, `not a URL: ${JSON.stringify(raw)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') fail(where, 'must be an http:// or https:// URL');
  return raw;
}

function seconds(raw: unknown, where: string, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < min) fail(where, `must be a number >= ${min}`);
  return raw;
}

function bytes(raw: unknown, where: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1024) fail(where, 'must be an integer >= 1024');
  return raw;
}

function stringMap(raw: unknown, where: string): Record<string, string> {
  if (raw === undefined) return {};
  const r = record(raw, where);
  for (const [k, v] of Object.entries(r)) if (typeof v !== 'string') fail(`${where}.${k}`, 'must be a string');
  return r as Record<string, string>;
}

function filePath(raw: unknown, where: string, baseDir: string): string {
  if (typeof raw !== 'string' || raw === '') fail(where, 'must be a path');
  return path.resolve(baseDir, raw);
}

export function parseBundleService(raw: unknown, where: string): BundleServiceConfig {
  const r = record(raw, where);
  onlyKeys(r, where, ['url', 'headers', 'pollingMinDelaySeconds', 'pollingMaxDelaySeconds', 'longPollingTimeoutSeconds']);
  const config: BundleServiceConfig = {
    url: url(r.url, `${where}.url`),
    headers: stringMap(r.headers, `${where}.headers`),
    pollingMinDelaySeconds: seconds(r.pollingMinDelaySeconds, `${where}.pollingMinDelaySeconds`, 60, 0.1),
    pollingMaxDelaySeconds: seconds(r.pollingMaxDelaySeconds, `${where}.pollingMaxDelaySeconds`, 120, 0.1),
    longPollingTimeoutSeconds: seconds(r.longPollingTimeoutSeconds, `${where}.longPollingTimeoutSeconds`, 0),
  };
  if (config.pollingMaxDelaySeconds < config.pollingMinDelaySeconds) fail(where, 'pollingMaxDelaySeconds must not be below pollingMinDelaySeconds');
  return config;
}

/** Keys are PEM text (`key`) or a PEM file (`keyFile`, relative to the config file). */
export function parseBundleSigning(raw: unknown, where: string, baseDir: string): BundleVerification {
  const r = record(raw, where);
  onlyKeys(r, where, ['keys', 'keyId', 'scope', 'excludeFiles']);
  const keysRaw = record(r.keys, `${where}.keys`);
  const keys: Record<string, VerificationKey> = {};
  for (const [id, value] of Object.entries(keysRaw)) {
    const kw = `${where}.keys.${id}`;
    const k = record(value, kw);
    onlyKeys(k, kw, ['algorithm', 'key', 'keyFile']);
    if (!SIGNING_ALGORITHMS.includes(k.algorithm as SigningAlgorithm)) fail(`${kw}.algorithm`, `must be one of ${SIGNING_ALGORITHMS.join(', ')}`);
    if ((k.key === undefined) === (k.keyFile === undefined)) fail(kw, 'needs exactly one of key (PEM text) and keyFile');
    let text: string;
    if (k.key !== undefined) {
      if (typeof k.key !== 'string') fail(`${kw}.key`, 'must be a string');
      text = k.key;
    } else {
      const file = filePath(k.keyFile, `${kw}.keyFile`, baseDir);
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        fail(`${kw}.keyFile`, `cannot read ${file}: ${(err as Error).message}`);
      }
    }
    Object.defineProperty(keys, id, { value: { algorithm: k.algorithm as SigningAlgorithm, key: text }, enumerable: true });
  }
  if (Object.keys(keys).length === 0) fail(`${where}.keys`, 'at least one key is needed');
  const out: BundleVerification = { keys };
  if (r.keyId !== undefined) {
    if (typeof r.keyId !== 'string' || !Object.hasOwn(keys, r.keyId)) fail(`${where}.keyId`, 'must name one of the keys');
    out.keyId = r.keyId;
  }
  if (r.scope !== undefined) {
    if (typeof r.scope !== 'string') fail(`${where}.scope`, 'must be a string');
    out.scope = r.scope;
  }
  if (r.excludeFiles !== undefined) {
    if (!Array.isArray(r.excludeFiles) || r.excludeFiles.some((f) => typeof f !== 'string')) fail(`${where}.excludeFiles`, 'must be a list of file names');
    out.excludeFiles = r.excludeFiles as string[];
  }
  return out;
}

export function parseDecisionLogs(raw: unknown, where: string, baseDir: string): DecisionLogsConfig {
  const r = record(raw, where);
  onlyKeys(r, where, ['url', 'headers', 'file', 'mask', 'labels', 'maxBufferBytes', 'maxBatchBytes', 'uploadMinDelaySeconds', 'uploadMaxDelaySeconds', 'retryMaxDelaySeconds']);
  if (r.url === undefined && r.file === undefined) fail(where, 'needs url, file or both');
  const mask = r.mask ?? [];
  if (!Array.isArray(mask) || mask.some((m) => typeof m !== 'string' || !/^\/(input|result)(\/|$)/.test(m))) {
    fail(`${where}.mask`, 'must be a list of JSON pointers under /input or /result, like /input/object/Env');
  }
  const config: DecisionLogsConfig = {
    headers: stringMap(r.headers, `${where}.headers`),
    mask: mask as string[],
    labels: stringMap(r.labels, `${where}.labels`),
    maxBufferBytes: bytes(r.maxBufferBytes, `${where}.maxBufferBytes`, 16 * 1024 * 1024),
    maxBatchBytes: bytes(r.maxBatchBytes, `${where}.maxBatchBytes`, 1024 * 1024),
    uploadMinDelaySeconds: seconds(r.uploadMinDelaySeconds, `${where}.uploadMinDelaySeconds`, 5, 0.05),
    uploadMaxDelaySeconds: seconds(r.uploadMaxDelaySeconds, `${where}.uploadMaxDelaySeconds`, 10, 0.05),
    retryMaxDelaySeconds: seconds(r.retryMaxDelaySeconds, `${where}.retryMaxDelaySeconds`, 60, 0.05),
  };
  if (config.uploadMaxDelaySeconds < config.uploadMinDelaySeconds) fail(where, 'uploadMaxDelaySeconds must not be below uploadMinDelaySeconds');
  if (r.url !== undefined) config.url = url(r.url, `${where}.url`);
  if (r.file !== undefined) config.file = filePath(r.file, `${where}.file`, baseDir);
  return config;
}
