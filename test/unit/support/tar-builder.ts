// Builds ustar archives for tests, including deliberately broken ones.
import { gzipSync } from 'node:zlib';

export interface TarFile {
  name: string;
  data?: Buffer | string;
  /** Typeflag: '0' regular (default), '2' symlink, '5' directory, 'x' PAX header, ... */
  type?: string;
  linkname?: string;
  /** Written into the ustar prefix field (name = prefix + "/" + name). */
  prefix?: string;
  /** Overrides the size field (e.g. to claim more data than follows). */
  size?: number;
  badChecksum?: boolean;
}

function field(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value, offset, length, 'latin1');
}

function octalField(header: Buffer, offset: number, length: number, value: number): void {
  field(header, offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
}

export function tarHeader(file: TarFile, dataLength: number): Buffer {
  const header = Buffer.alloc(512);
  field(header, 0, 100, file.name);
  octalField(header, 100, 8, 0o644);
  octalField(header, 108, 8, 0);
  octalField(header, 116, 8, 0);
  octalField(header, 124, 12, file.size ?? dataLength);
  octalField(header, 136, 12, 0);
  header[156] = (file.type ?? '0').charCodeAt(0);
  field(header, 157, 100, file.linkname ?? '');
  field(header, 257, 6, 'ustar\0');
  field(header, 263, 2, '00');
  if (file.prefix) field(header, 345, 155, file.prefix);
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  octalField(header, 148, 7, file.badChecksum ? sum + 1 : sum);
  header[155] = 0x20;
  return header;
}

export function buildTar(files: TarFile[], trailer: Buffer = Buffer.alloc(1024)): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    const data = Buffer.from(file.data ?? '');
    parts.push(tarHeader(file, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(trailer);
  return Buffer.concat(parts);
}

export function buildTarGz(files: TarFile[], trailer?: Buffer): Buffer {
  return gzipSync(buildTar(files, trailer));
}
