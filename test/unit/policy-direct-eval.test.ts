// The engine's direct opa_eval path (direct-eval.ts) against opa-wasm's own evaluate(): same
// result sets, including multi-byte UTF-8 and an input that needs the memory to grow.
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseBundle } from '../../src/policy/bundle.js';
import { directEval } from '../../src/policy/direct-eval.js';

const { loadPolicySync } = createRequire(import.meta.url)('@open-policy-agent/opa-wasm') as typeof import('@open-policy-agent/opa-wasm');
const FIXTURES = fileURLToPath(new URL('../../policy/dist/test-engine-fixtures.tar.gz', import.meta.url));

describe('directEval', () => {
  it('gives the result sets of opa-wasm evaluate()', async () => {
    const bundle = parseBundle(await readFile(FIXTURES));
    const policy = loadPolicySync(bundle.wasm, { initial: 2, maximum: 256 });
    const direct = directEval(policy);
    expect(direct).toBeDefined();
    const echo = (policy.entrypoints as Record<string, number>)['dockgate/fixtures/echo']!;
    const inputs = [
      { result: { allowed: true, warnings: ['plain'] } },
      { result: { allowed: false, warnings: ['ünïcödé ✓ 𝄞', '"quotes" and \\ backslashes\n'] } },
      // ~1 MB: more than the 2 pages the memory starts with.
      { result: { allowed: true, warnings: ['é'.repeat(500_000)] } },
    ];
    for (const input of inputs) {
      const got = direct!(JSON.stringify(input), echo);
      expect(got).toEqual([{ result: input.result }]);
      expect(got).toEqual(policy.evaluate(input, echo));
    }
  });

  it('is not offered when the policy object does not look like opa-wasm 1.x', () => {
    expect(directEval({} as never)).toBeUndefined();
    expect(directEval({ minorVersion: 1, mem: {}, wasmInstance: { exports: { opa_eval: () => 0 } }, dataAddr: 0, dataHeapPtr: 0 } as never)).toBeUndefined();
  });
});
