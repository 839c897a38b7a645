import { EventEmitter } from 'node:events';
import type { FSWatcher } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { watchBundleFile, type WatchFunction } from '../../src/policy/bundle-watcher.js';

// The bundle file watch: a change is reported (debounced); a watch that cannot start or that
// fails later is reported to the caller (who logs it) and never throws into the proxy.

describe('watchBundleFile', () => {
  it('reports a change of the bundle file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dockgate-watch-'));
    try {
      const file = path.join(dir, 'bundle.tar.gz');
      await writeFile(file, 'v1');
      const errors: Error[] = [];
      const changed = new Promise<void>((resolve) => {
        const w = watchBundleFile(file, () => (w.close(), resolve()), (e) => errors.push(e), 20);
      });
      await writeFile(file, 'v2');
      await changed;
      expect(errors).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a watch that cannot start (EMFILE: inotify instances exhausted) is reported, not thrown', () => {
    const failing: WatchFunction = () => {
      throw Object.assign(new Error('EMFILE: too many open files, watch'), { code: 'EMFILE' });
    };
    const errors: Error[] = [];
    const w = watchBundleFile('/etc/dockgate/bundle.tar.gz', () => undefined, (e) => errors.push(e), 20, failing);
    expect(errors.map((e) => e.message)).toEqual(['EMFILE: too many open files, watch']);
    expect(() => w.close()).not.toThrow();
  });

  it('a watch that fails later is closed and reported', () => {
    let closed = 0;
    const emitter = Object.assign(new EventEmitter(), { close: () => void closed++ }) as unknown as FSWatcher;
    const errors: Error[] = [];
    watchBundleFile('/etc/dockgate/bundle.tar.gz', () => undefined, (e) => errors.push(e), 20, () => emitter);
    emitter.emit('error', new Error('ENOENT: directory removed'));
    expect(errors.map((e) => e.message)).toEqual(['ENOENT: directory removed']);
    expect(closed).toBe(1);
  });
});
