// Notices that a bundle file changed. The directory is watched, not the file: deployment tools
// replace a bundle by rename (a new inode the old watch would never see) or swap a symlinked
// directory (Kubernetes ConfigMaps). Events come in bursts while a file is written, so they are
// debounced; the reload itself skips bytes it already has.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface FileWatch {
  close(): void;
}

export const DEFAULT_DEBOUNCE_MS = 200;

/** Where a watch can fail: fs.watch, or a stand-in for fault injection in tests. */
export type WatchFunction = (dir: string, options: { persistent: boolean }, listener: () => void) => FSWatcher;

/**
 * Watches `file`'s directory and calls `onChange` (debounced) when something in it changes.
 * A watch that cannot start (inotify limits: EMFILE, ENOSPC) or that fails later (directory
 * removed) is reported to `onError` and ends; the proxy keeps serving and SIGHUP still reloads.
 */
export function watchBundleFile(
  file: string,
  onChange: () => void,
  onError: (err: Error) => void,
  debounceMs = DEFAULT_DEBOUNCE_MS,
  watchFn: WatchFunction = watch,
): FileWatch {
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
    timer.unref();
  };
  let watcher: FSWatcher;
  try {
    watcher = watchFn(path.dirname(file), { persistent: false }, fire);
  } catch (err) {
    onError(err as Error);
    return { close: () => undefined };
  }
  watcher.on('error', (err: Error) => {
    watcher.close();
    onError(err);
  });
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
