// Tar archives generated on the fly for the throughput figures: a 1 GiB upload never exists on
// disk or in memory. The payload repeats one 1 MiB block of random bytes (incompressible, and
// nobody along the way compresses anyway).
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

const BLOCK = 512;
const CHUNK = 256 * 1024;
const PAYLOAD = randomBytes(1024 * 1024);

export interface TarFile {
  name: string;
  /** Either literal content or a size of generated payload. */
  content: Buffer | number;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** A ustar header for a regular file owned by root, mode 0644. */
function header(name: string, size: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
  if (size >= 8 ** 11) throw new Error(`tar entry too large for a ustar header: ${size}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.floor(Date.now() / 1000), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum field counts as spaces while summing
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

function sizeOf(f: TarFile): number {
  return typeof f.content === 'number' ? f.content : f.content.length;
}

/** Exact length of the archive tarStream(files) produces. */
export function tarLength(files: readonly TarFile[]): number {
  return files.reduce((n, f) => n + BLOCK + sizeOf(f) + padding(sizeOf(f)), 0) + 2 * BLOCK;
}

function* generate(files: readonly TarFile[]): Generator<Buffer> {
  for (const f of files) {
    const size = sizeOf(f);
    yield header(f.name, size);
    if (typeof f.content !== 'number') {
      yield f.content;
    } else {
      for (let left = size; left > 0; ) {
        const n = Math.min(CHUNK, left);
        const offset = (size - left) % PAYLOAD.length;
        yield PAYLOAD.subarray(offset, Math.min(PAYLOAD.length, offset + n));
        left -= Math.min(n, PAYLOAD.length - offset);
      }
    }
    const pad = padding(size);
    if (pad > 0) yield Buffer.alloc(pad);
  }
  yield Buffer.alloc(2 * BLOCK);
}

export function tarStream(files: readonly TarFile[]): Readable {
  return Readable.from(generate(files), { objectMode: false });
}
