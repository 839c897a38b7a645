import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { EMBEDDED_BUNDLE } from '../../src/policy/default-policy.js';
import { FixtureError, loadCases, runCases, suiteFiles, type FixtureCase } from '../../src/offline/fixtures.js';

// policy/fixtures on the committed embedded bundle, with the runner behind `dockgate test`: the
// wasm build must decide every case as the fixtures (checked against `opa eval`) say.

const cases = suiteFiles('policy/fixtures').flatMap(loadCases);
const results = await runCases(cases, { bundle: EMBEDDED_BUNDLE });

describe('policy fixtures on the embedded bundle', () => {
  test('every case file was loaded and run', () => {
    expect(cases.length).toBeGreaterThanOrEqual(144);
    expect(results).toHaveLength(cases.length);
  });
  test.each(results.map((r) => [`${r.file}: ${r.name}`, r] as const))('%s', (_name, r) => {
    expect(r.failures, r.failures.join('\n')).toEqual([]);
  });
});

describe('the fixture runner can fail', () => {
  const base = cases.find((c) => c.name === 'docker run alpine')!;
  const variant = (expect: Partial<FixtureCase['expect']>): FixtureCase => ({ ...base, name: 'variant', expect: { ...base.expect, ...expect } });

  test('a wrong expectation of each kind is reported with expected and actual values', async () => {
    const wrong = [
      variant({ allowed: false }),
      variant({ rules: ['privileged'] }),
      variant({ patch: [] }),
      variant({ patchContains: [{ op: 'add', path: '/Labels/dockgate.owner', value: 'bob' }] }),
      variant({ warningsMatch: ['read-only'] }),
      variant({ messagesMatch: ['anything'] }),
      variant({ object: { Image: 'alpine' } }),
    ];
    const out = await runCases(wrong, { bundle: EMBEDDED_BUNDLE });
    expect(out.map((r) => r.failures.length)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(out[0]!.failures[0]).toBe('allowed: expected false, got true');
    expect(out[1]!.failures[0]).toMatch(/^rules:\n\s+expected \["privileged"\]\n\s+got\s+\[\]/);
    expect(out[2]!.failures[0]).toContain('"value":"alice"');
    expect(out[6]!.failures[0]).toMatch(/object after mutation/);
  });

  test('the mutated object after all rounds is checked exactly', async () => {
    const object = structuredClone(base.input.object) as Record<string, unknown>;
    object.Labels = { 'dockgate.owner': 'alice' };
    const [r] = await runCases([variant({ object: object as never })], { bundle: EMBEDDED_BUNDLE });
    expect(r!.failures).toEqual([]);
  });

  test('a misspelt expectation is an error, not a case that cannot fail', () => {
    const text = JSON.stringify([{ name: 'x', input: {}, expect: { allowed: true, warningMatch: ['x'] } }]);
    expect(() => loadCasesFromText(text)).toThrow(FixtureError);
    expect(() => loadCasesFromText(text)).toThrow(/unknown expectation "warningMatch"/);
  });
});

function loadCasesFromText(text: string): FixtureCase[] {
  const dir = mkdtempSync('/tmp/dgt-fixture-');
  try {
    writeFileSync(`${dir}/cases.json`, text);
    return loadCases(`${dir}/cases.json`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
