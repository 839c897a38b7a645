import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { describeResult, runDocker, type RunOptions } from '../support/docker-cli.js';
import { LABEL_ARGS, sha256File, uniqueName, useDockgate } from '../support/fixtures.js';

// `docker cp` streams tar archives both ways (PUT/GET /containers/{id}/archive). A 200 MiB file
// must arrive byte-exact in the container and come back byte-exact: nothing buffered whole,
// nothing truncated, nothing reordered.

const env = useDockgate();
const docker = (args: string[], opts?: RunOptions) => runDocker(env().dockgate.dockerHost, args, opts);

const MIB = 1024 * 1024;
const SIZE_MIB = 200;

/** Writes SIZE_MIB MiB of random-looking data (a random block, each copy stamped with its index). */
async function writeBigFile(file: string): Promise<string> {
  const block = randomBytes(MIB);
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  for (let i = 0; i < SIZE_MIB; i++) {
    const chunk = Buffer.from(block);
    chunk.writeUInt32BE(i, 0);
    chunk.writeUInt32BE(i, MIB / 2);
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return hash.digest('hex');
}

describe('docker cp through dockgate', () => {
  let work: string;
  let bigFile: string;
  let bigHash: string;
  let box: string;

  beforeAll(async () => {
    work = await fs.mkdtemp('/tmp/dgt-cp-');
    bigFile = path.join(work, 'big.bin');
    bigHash = await writeBigFile(bigFile);
    box = uniqueName('dgt-cp');
    const r = await docker(['run', '-d', '--name', box, ...LABEL_ARGS, env().testImage, 'sleep', '3600']);
    expect(r.code, describeResult(r)).toBe(0);
  });

  afterAll(async () => {
    if (box) await docker(['rm', '-f', box]);
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  test(`cp into the container: ${SIZE_MIB} MiB arrive byte-exact`, async () => {
    const r = await docker(['cp', bigFile, `${box}:/tmp/big.bin`], { timeoutMs: 180_000 });
    expect(r.code, describeResult(r)).toBe(0);
    const sum = await docker(['exec', box, 'sh', '-c', 'stat -c %s /tmp/big.bin; sha256sum /tmp/big.bin'], { timeoutMs: 60_000 });
    expect(sum.code, describeResult(sum)).toBe(0);
    expect(sum.stdout).toBe(`${SIZE_MIB * MIB}\n${bigHash}  /tmp/big.bin\n`);
  });

  test(`cp out of the container: the ${SIZE_MIB} MiB file comes back byte-exact`, async () => {
    const outDir = path.join(work, 'out');
    await fs.mkdir(outDir);
    const r = await docker(['cp', `${box}:/tmp/big.bin`, outDir], { timeoutMs: 180_000 });
    expect(r.code, describeResult(r)).toBe(0);
    const copied = path.join(outDir, 'big.bin');
    expect((await fs.stat(copied)).size).toBe(SIZE_MIB * MIB);
    expect(await sha256File(copied)).toBe(bigHash);
  });

  test('cp of a directory tree keeps names, modes, symlinks and contents both ways', async () => {
    const tree = path.join(work, 'tree');
    await fs.mkdir(path.join(tree, 'sub', 'deeper'), { recursive: true });
    await fs.writeFile(path.join(tree, 'a.txt'), 'alpha\n');
    await fs.writeFile(path.join(tree, 'sub', 'run.sh'), '#!/bin/sh\necho run\n', { mode: 0o750 });
    await fs.writeFile(path.join(tree, 'sub', 'deeper', 'b.bin'), randomBytes(70_000));
    await fs.symlink('../a.txt', path.join(tree, 'sub', 'link'));

    const put = await docker(['cp', tree, `${box}:/tmp/`]);
    expect(put.code, describeResult(put)).toBe(0);
    const listing = await docker(['exec', box, 'sh', '-c', 'cd /tmp/tree && find . | sort && stat -c %a sub/run.sh && readlink sub/link && cat sub/link']);
    expect(listing.code, describeResult(listing)).toBe(0);
    expect(listing.stdout).toBe(
      ['.', './a.txt', './sub', './sub/deeper', './sub/deeper/b.bin', './sub/link', './sub/run.sh', '750', '../a.txt', 'alpha', ''].join('\n'),
    );

    const back = path.join(work, 'back');
    await fs.mkdir(back);
    const get = await docker(['cp', `${box}:/tmp/tree`, back]);
    expect(get.code, describeResult(get)).toBe(0);
    expect(await sha256File(path.join(back, 'tree', 'sub', 'deeper', 'b.bin'))).toBe(
      await sha256File(path.join(tree, 'sub', 'deeper', 'b.bin')),
    );
    expect(await fs.readlink(path.join(back, 'tree', 'sub', 'link'))).toBe('../a.txt');
    expect((await fs.stat(path.join(back, 'tree', 'sub', 'run.sh'))).mode & 0o777).toBe(0o750);
  });
});
