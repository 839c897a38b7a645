import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { DEFAULT_POLICY_DEADLINE_MS, DEFAULT_POLICY_INLINE_STEPS, DEFAULT_POLICY_WORKERS, loadConfigFile } from '../../src/config/config.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dgg-config-'));
function load(yaml: string) {
  const file = path.join(dir, 'dockgate.yaml');
  writeFileSync(file, yaml);
  return loadConfigFile(file, {});
}

describe('policyWorkers, policyDeadlineMs and policyInlineSteps', () => {
  test('defaults: two workers on demand, a 2 s deadline, 200 000 steps on the event loop first', () => {
    const c = load('logLevel: info\n');
    expect([c.policyWorkers, c.policyDeadlineMs, c.policyInlineSteps]).toEqual([DEFAULT_POLICY_WORKERS, DEFAULT_POLICY_DEADLINE_MS, DEFAULT_POLICY_INLINE_STEPS]);
    expect([c.policyWorkers, c.policyDeadlineMs, c.policyInlineSteps]).toEqual([2, 2000, 200_000]);
  });

  test('set in the file; 0 workers evaluates on the event loop', () => {
    expect(load('policyWorkers: 0\npolicyDeadlineMs: 500\n')).toMatchObject({ policyWorkers: 0, policyDeadlineMs: 500 });
  });

  test('policyInlineSteps: 0 makes every decision in a worker', () => {
    expect(load('policyInlineSteps: 0\n')).toMatchObject({ policyInlineSteps: 0 });
  });

  test.each([
    ['policyWorkers: -1', /\$\.policyWorkers: .*>= 0/],
    ['policyWorkers: 65', /\$\.policyWorkers: .*<= 64/],
    ['policyWorkers: 1.5', /\$\.policyWorkers: .*integer/],
    ['policyWorkers: "2"', /\$\.policyWorkers: .*integer/],
    ['policyDeadlineMs: 0', /\$\.policyDeadlineMs: .*>= 1/],
    ['policyDeadlineMs: 10m', /\$\.policyDeadlineMs: .*integer/],
    ['policyInlineSteps: -1', /\$\.policyInlineSteps: .*>= 0/],
    ['policyInlineSteps: 1.5', /\$\.policyInlineSteps: .*integer/],
  ])('%s is refused', (yaml, message) => {
    expect(() => load(`${yaml}\n`)).toThrow(message);
  });
});
