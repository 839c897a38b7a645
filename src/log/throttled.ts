import type { Logger } from './logger.js';

// A warning that a flood would repeat thousands of times a second (dropped connections,
// refused handshakes): the first one of each interval is logged, the rest are counted and the
// count goes out with the next one logged, so a flood cannot fill the disk or hog the event loop.

export interface ThrottledWarning {
  (fields: Record<string, unknown>): void;
  /** Every occurrence so far, logged or not. */
  readonly total: number;
}

export function throttledWarning(log: Logger, message: string, intervalMs = 10_000, now: () => number = Date.now): ThrottledWarning {
  let total = 0;
  let suppressed = 0;
  let lastLogged = -Infinity;
  const warn = (fields: Record<string, unknown>) => {
    total++;
    const t = now();
    if (t - lastLogged < intervalMs) {
      suppressed++;
      return;
    }
    lastLogged = t;
    log.warn({ ...fields, total, ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}) }, message);
    suppressed = 0;
  };
  Object.defineProperty(warn, 'total', { get: () => total });
  return warn as ThrottledWarning;
}
