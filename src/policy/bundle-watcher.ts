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

export function watchBundleFile(file: string, onChange: () => void, debounceMs = DEFAULT_DEBOUNCE_MS): FileWatch {
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
    timer.unref();
  };
  const watcher: FSWatcher = watch(path.dirname(file), { persistent: false }, fire);
  // A watch error (directory removed) must not crash the proxy; SIGHUP still reloads.
  watcher.on('error', () => watcher.close());
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
