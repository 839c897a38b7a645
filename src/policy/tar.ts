// A minimal reader for the ustar archives `opa build` writes (Go archive/tar). Only regular files
// with plain names are accepted; links, devices, PAX/GNU extension headers, bad checksums,
// traversal or duplicate names, and anything past the limits are refused: a policy bundle is
// trusted input on the decision path, so an odd one is a broken or tampered one.
import { PolicyError } from './policy-error.js';

const BLOCK = 512;

export interface TarEntry {
  /** Normalized path: no leading "/" or "./", no empty, "." or ".." segments. */
  path: string;
  data: Buffer;
}

export interface TarLimits {
  maxEntries: number;
  maxEntryBytes: number;
}

function fail(message: string): never {
  throw new PolicyError('load', `bundle archive: ${message}`);
}

function cString(header: Buffer, start: number, length: number): Buffer {
  const field = header.subarray(start, start + length);
  const nul = field.indexOf(0);
  return nul === -1 ? field : field.subarray(0, nul);
}

function octal(header: Buffer, start: number, length: number, what: string): number {
  const field = header.subarray(start, start + length);
  // High bit set = GNU base-256 encoding, only needed past 8 GiB: never a sane bundle.
  if ((field[0]! & 0x80) !== 0) fail(`${what} uses base-256 encoding`);
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (!/^[0-7]+$/.test(text)) fail(`bad ${what} field ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function entryPath(header: Buffer): string {
  const name = cString(header, 0, 100);
  // Only POSIX ustar ("ustar\0") has a name prefix there; old GNU headers keep timestamps in it.
  const isPosixUstar = header.subarray(257, 263).toString('latin1') === 'ustar\0';
  const prefix = isPosixUstar ? cString(header, 345, 155) : Buffer.alloc(0);
  let path: string;
  try {
    path = utf8.decode(prefix.length > 0 ? Buffer.concat([prefix, Buffer.from('/'), name]) : name);
  } catch {
    fail('entry name is not UTF-8');
  }
  // opa build writes "/policy.wasm"; tar(1) writes "./policy.wasm". Both mean the bundle root.
  const relative = path.startsWith('/') ? path.slice(1) : path.startsWith('./') ? path.slice(2) : path;
  const segments = relative.split('/');
  // eslint-disable-next-line no-control-regex
  if (relative.length === 0 || /[\\\u0000-\u001f]/.test(relative) || segments.some((s) => s === '' || s === '.' || s === '..')) {
    fail(`refusing entry name ${JSON.stringify(path)}`);
  }
  return relative;
}

function checksumOk(header: Buffer): boolean {
  const expected = octal(header, 148, 8, 'checksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum === expected;
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** Reads every regular file of an uncompressed tar archive. Throws PolicyError('load'). */
export function readTar(archive: Buffer, limits: TarLimits): TarEntry[] {
  const entries: TarEntry[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (;;) {
    if (offset + BLOCK > archive.length) fail('truncated (no end-of-archive marker)');
    const header = archive.subarray(offset, offset + BLOCK);
    if (isZeroBlock(header)) {
      // End of archive: whatever follows must be zero padding too.
      if (!isZeroBlock(archive.subarray(offset))) fail('data after the end-of-archive marker');
      return entries;
    }
    if (!checksumOk(header)) fail(`bad header checksum at offset ${offset}`);
    const path = entryPath(header);
    const size = octal(header, 124, 12, 'size');
    const type = String.fromCharCode(header[156]!);
    const dataStart = offset + BLOCK;
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (type !== '0' && type !== '\0') fail(`entry ${JSON.stringify(path)} is not a regular file (type ${JSON.stringify(type)})`);
    if (size > limits.maxEntryBytes) fail(`entry ${JSON.stringify(path)} is ${size} bytes, over the ${limits.maxEntryBytes}-byte limit`);
    if (dataStart + size > archive.length) fail(`entry ${JSON.stringify(path)} is truncated`);
    if (seen.has(path)) fail(`duplicate entry ${JSON.stringify(path)}`);
    seen.add(path);
    if (entries.length >= limits.maxEntries) fail(`more than ${limits.maxEntries} entries`);
    entries.push({ path, data: archive.subarray(dataStart, dataStart + size) });
  }
}
