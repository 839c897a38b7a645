// Loading a compiled policy: either the `.tar.gz` bundle `opa build -t wasm` writes (policy.wasm,
// data.json, .manifest, plus the Rego sources), or a bare `.wasm` module. The format is told by
// the file's first bytes, not its name.
import { readFile, stat } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { JsonObject } from './contract.js';
import { PolicyError, describeThrown } from './policy-error.js';
import { readTar, type TarEntry } from './tar.js';

export interface BundleWasmEntry {
  entrypoint: string;
  module: string;
}

/** The parts of OPA's `.manifest` dockgate reads; other fields are kept as they are. */
export interface BundleManifest {
  revision?: string;
  roots?: string[];
  wasm?: BundleWasmEntry[];
  [key: string]: unknown;
}

export interface PolicyBundle {
  wasm: Uint8Array;
  /** The bundle's data.json (parameters' defaults); undefined for a bare module. */
  data: JsonObject | undefined;
  manifest: BundleManifest | undefined;
  /** Every file of an archive as it was stored (signature verification hashes these). */
  files: readonly TarEntry[];
  /** The archive's `.signatures.json`, if it is signed (verified by bundle-signature.ts). */
  signatures: Buffer | undefined;
}

export interface BundleLimits {
  /** Size of the file as read (compressed archive or bare module). */
  maxFileBytes: number;
  /** Total size of the unpacked tar stream. */
  maxUnpackedBytes: number;
  maxEntries: number;
}

export const DEFAULT_BUNDLE_LIMITS: BundleLimits = {
  maxFileBytes: 32 * 1024 * 1024,
  maxUnpackedBytes: 128 * 1024 * 1024,
  maxEntries: 1000,
};

const GZIP_MAGIC = [0x1f, 0x8b];
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d]; // "\0asm"

const WASM_PATH = 'policy.wasm';
const DATA_PATH = 'data.json';
const MANIFEST_PATH = '.manifest';
export const SIGNATURES_PATH = '.signatures.json';

function fail(message: string, cause?: unknown): never {
  throw new PolicyError('load', message, cause === undefined ? undefined : { cause });
}

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

function parseJsonObject(data: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch (err) {
    fail(`bundle ${what} is not valid JSON: ${describeThrown(err)}`, err);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`bundle ${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function checkManifest(raw: Record<string, unknown>): BundleManifest {
  if (raw.revision !== undefined && typeof raw.revision !== 'string') fail('bundle .manifest: "revision" must be a string');
  if (raw.roots !== undefined && !(Array.isArray(raw.roots) && raw.roots.every((r) => typeof r === 'string'))) {
    fail('bundle .manifest: "roots" must be an array of strings');
  }
  if (raw.wasm !== undefined) {
    if (!Array.isArray(raw.wasm)) fail('bundle .manifest: "wasm" must be an array');
    for (const entry of raw.wasm as unknown[]) {
      const e = entry as Partial<BundleWasmEntry> | null;
      if (typeof e !== 'object' || e === null || typeof e.entrypoint !== 'string' || typeof e.module !== 'string') {
        fail('bundle .manifest: "wasm" entries must be {"entrypoint": string, "module": string}');
      }
      // One module per bundle is what opa build writes and what dockgate evaluates.
      if (e.module.replace(/^\//, '') !== WASM_PATH) fail(`bundle .manifest names wasm module ${JSON.stringify(e.module)}; only /${WASM_PATH} is supported`);
    }
  }
  return raw as BundleManifest;
}

function parseArchive(gz: Buffer, limits: BundleLimits): PolicyBundle {
  let tar: Buffer;
  try {
    tar = gunzipSync(gz, { maxOutputLength: limits.maxUnpackedBytes });
  } catch (err) {
    fail(`bundle is not a readable gzip archive or unpacks past ${limits.maxUnpackedBytes} bytes: ${describeThrown(err)}`, err);
  }
  const entries = readTar(tar, { maxEntries: limits.maxEntries, maxEntryBytes: limits.maxUnpackedBytes });

  let wasm: Buffer | undefined;
  let data: JsonObject | undefined;
  let manifest: BundleManifest | undefined;
  let signatures: Buffer | undefined;
  for (const { path, data: bytes } of entries) {
    if (path === WASM_PATH) wasm = bytes;
    else if (path === DATA_PATH) data = parseJsonObject(bytes, DATA_PATH) as JsonObject;
    else if (path === MANIFEST_PATH) manifest = checkManifest(parseJsonObject(bytes, MANIFEST_PATH));
    else if (path.endsWith('.rego')) continue; // sources travel with the bundle; the wasm is what runs
    else if (path === SIGNATURES_PATH) signatures = bytes;
    else fail(`bundle holds unexpected file ${JSON.stringify(path)} (expected ${WASM_PATH}, ${DATA_PATH}, ${MANIFEST_PATH} and .rego sources)`);
  }
  if (wasm === undefined) fail(`bundle has no ${WASM_PATH}: build it with \`opa build -t wasm -e <entrypoint>\``);
  if (!startsWith(wasm, WASM_MAGIC)) fail(`bundle ${WASM_PATH} is not a WebAssembly module`);
  return { wasm, data, manifest, files: entries, signatures };
}

/** Parses bundle bytes already in memory (a .tar.gz or a bare .wasm). Throws PolicyError('load'). */
export function parseBundle(bytes: Buffer, limits: BundleLimits = DEFAULT_BUNDLE_LIMITS): PolicyBundle {
  if (bytes.length > limits.maxFileBytes) fail(`bundle is ${bytes.length} bytes, over the ${limits.maxFileBytes}-byte limit`);
  if (startsWith(bytes, GZIP_MAGIC)) return parseArchive(bytes, limits);
  if (startsWith(bytes, WASM_MAGIC)) return { wasm: bytes, data: undefined, manifest: undefined, files: [], signatures: undefined };
  fail('bundle is neither a gzip archive from `opa build` nor a WebAssembly module');
}

/** Reads a bundle file's bytes, refusing a non-file or one over the size limit before reading it. */
export async function readBundleFile(path: string, limits: BundleLimits = DEFAULT_BUNDLE_LIMITS): Promise<Buffer> {
  try {
    // Check the size before reading so a huge file is never pulled into memory.
    const info = await stat(path);
    if (!info.isFile()) fail(`policy bundle ${path} is not a regular file`);
    if (info.size > limits.maxFileBytes) fail(`policy bundle ${path} is ${info.size} bytes, over the ${limits.maxFileBytes}-byte limit`);
    return await readFile(path);
  } catch (err) {
    if (err instanceof PolicyError) throw err;
    fail(`cannot read policy bundle ${path}: ${describeThrown(err)}`, err);
  }
}

/** Parses bundle bytes, naming `where` (a path or URL) in the error. Throws PolicyError('load'). */
export function parseBundleFrom(bytes: Buffer, where: string, limits: BundleLimits = DEFAULT_BUNDLE_LIMITS): PolicyBundle {
  try {
    return parseBundle(bytes, limits);
  } catch (err) {
    if (err instanceof PolicyError) throw new PolicyError('load', `${where}: ${err.message}`, { cause: err.cause });
    throw err;
  }
}

/** Reads and parses a bundle file. Throws PolicyError('load') naming the file. */
export async function loadBundleFile(path: string, limits: BundleLimits = DEFAULT_BUNDLE_LIMITS): Promise<PolicyBundle> {
  return parseBundleFrom(await readBundleFile(path, limits), path, limits);
}
