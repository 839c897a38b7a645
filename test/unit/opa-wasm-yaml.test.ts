// opa-wasm is loaded with its YAML parser deferred (src/policy/opa-wasm-loader.ts): the parser is
// not loaded by loading or running a policy, only by a policy that calls the yaml builtins, which
// then work as opa-wasm has them.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PolicyEngine } from '../../src/policy/engine.js';
import { opaWasmYamlState } from '../../src/policy/opa-wasm-loader.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../policy/dist/test-engine-fixtures.tar.gz');
const load = (name: string) => PolicyEngine.load(FIXTURES, { entrypoint: `dockgate/fixtures/${name}` });

describe('opa-wasm without its YAML parser until a policy needs it', () => {
  it('holds a stand-in once the engine is loaded, and running a policy does not load the parser', async () => {
    expect(opaWasmYamlState()).toEqual({ standIn: true, realLoaded: false });
    const engine = await load('js_builtins');
    expect(engine.evaluate({ s: 'a,b' } as never).warnings).toEqual(['a,b has 2 parts']);
    expect(opaWasmYamlState()).toEqual({ standIn: true, realLoaded: false });
  });

  it('gives the yaml builtins their results, loading the parser on first use', async () => {
    const engine = await load('yaml_builtins');
    const decision = engine.evaluate({ s: 'b: [x, "y"]\na: 1\n' } as never);
    expect(decision.warnings).toEqual(['b:\n  - x\n  - y\na: 1\n', 'true']);
    expect(opaWasmYamlState()).toEqual({ standIn: true, realLoaded: true });
    // Invalid YAML: yaml.unmarshal is undefined, so is the rule: a PolicyError, as before.
    expect(() => engine.evaluate({ s: 'a: [1' } as never)).toThrow(/undefined|no result/i);
  });
});
