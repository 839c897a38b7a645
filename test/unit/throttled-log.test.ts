import { describe, expect, test } from 'vitest';
import type { Logger } from '../../src/log/logger.js';
import { throttledWarning } from '../../src/log/throttled.js';

function recorder() {
  const lines: Record<string, unknown>[] = [];
  const log = { warn: (fields: Record<string, unknown>, msg: string) => lines.push({ ...fields, msg }) } as unknown as Logger;
  return { log, lines };
}

describe('throttled warnings', () => {
  test('one line per interval; the ones left out are counted into the next line', () => {
    const { log, lines } = recorder();
    let now = 1_000;
    const warn = throttledWarning(log, 'connection refused', 10_000, () => now);
    for (let i = 0; i < 500; i++) warn({ reason: 'maxConnections' });
    expect(lines).toEqual([{ reason: 'maxConnections', total: 1, msg: 'connection refused' }]);
    now += 10_000;
    warn({ reason: 'maxConnections' });
    expect(lines[1]).toEqual({ reason: 'maxConnections', total: 501, suppressedSinceLast: 499, msg: 'connection refused' });
    expect(warn.total).toBe(501);
  });
});
