import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSink } from '../../src/decision-log/file-sink.js';
import { createLogger } from '../../src/log/logger.js';

// The decision-log file behind a symlink: first to /dev/full (every write fails with ENOSPC, as
// on a full disk), then to a regular file (the disk has room again).
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('decision-log file sink', () => {
  it('drops and counts events while the disk is full, and writes again once it has room, without a restart', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-sink-'));
    dirs.push(dir);
    const file = path.join(dir, 'decisions.jsonl');
    const real = path.join(dir, 'real.jsonl');
    await fs.symlink('/dev/full', file);
    let dropped = 0;
    const sink = new FileSink(file, 1 << 20, (n) => (dropped += n), createLogger('silent'), 100);

    sink.write('{"n":1}');
    // The failed write closes the stream; events until the pause is over are dropped.
    await waitFor(async () => {
      sink.write('{"n":2}');
      return dropped > 0;
    }, 'an event dropped after ENOSPC');

    // The disk has room again: the same path now leads to a writable file.
    await fs.writeFile(real, '');
    await fs.symlink(real, `${file}.new`);
    await fs.rename(`${file}.new`, file);
    await sleep(150);
    sink.write('{"n":3}');
    await sink.close();
    expect(await fs.readFile(real, 'utf8')).toBe('{"n":3}\n');
  });

  it('drops events written after close', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-sink-'));
    dirs.push(dir);
    const file = path.join(dir, 'decisions.jsonl');
    let dropped = 0;
    const sink = new FileSink(file, 1 << 20, (n) => (dropped += n), createLogger('silent'), 100);
    sink.write('{"n":1}');
    await sink.close();
    sink.write('{"n":2}');
    expect(dropped).toBe(1);
    expect(await fs.readFile(file, 'utf8')).toBe('{"n":1}\n');
  });
});
