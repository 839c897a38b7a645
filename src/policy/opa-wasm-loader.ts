// Loads @open-policy-agent/opa-wasm without loading its YAML parser until a policy needs it.
//
// Why: opa-wasm requires its own yaml@1 when it is loaded, for the three yaml.* builtins only
// (yaml.marshal, yaml.unmarshal, yaml.is_valid). That parser is ~1 MiB of heap, held by the main
// thread and by every decision worker, although dockgate's policies never call those builtins
// (bench/FINDINGS.md, "Memory"). So before opa-wasm is loaded, the module cache entry of that
// yaml gets a stand-in with the two functions opa-wasm calls (parse, stringify); the first call
// loads the real parser. A policy that uses the builtins gets the same results, later.
//
// When opa-wasm is laid out differently or brings another yaml major version (an update), no
// stand-in is placed and opa-wasm loads its yaml as usual: the cost is the memory, never the
// behaviour. A unit test checks that the stand-in is in place with the opa-wasm locked in
// package-lock.json.
import { createRequire } from 'node:module';
import path from 'node:path';

type OpaWasm = typeof import('@open-policy-agent/opa-wasm');
interface YamlV1 {
  parse(text: string): unknown;
  stringify(value: unknown): string;
}

const require = createRequire(import.meta.url);

/** Where opa-wasm's builtins resolve `yaml`, or undefined when that cannot be found. */
function opaWasmYamlPath(): string | undefined {
  try {
    const entry = require.resolve('@open-policy-agent/opa-wasm'); // …/opa-wasm/src/index.cjs
    return createRequire(path.join(path.dirname(entry), 'builtins', 'yaml.js')).resolve('yaml');
  } catch {
    return undefined;
  }
}

let standIn: YamlV1 | undefined;

/** Puts the stand-in into the module cache entry of `yamlPath`, unless that yaml is loaded already. */
function deferYaml(yamlPath: string): void {
  if (require.cache[yamlPath]) return;
  // The stand-in knows yaml@1's layout only; another major version loads as usual.
  const { version } = createRequire(yamlPath)('./package.json') as { version: string };
  if (!version.startsWith('1.')) return;
  let real: YamlV1 | undefined;
  // yaml@1's index.js is `module.exports = require('./dist').YAML`: loading ./dist directly
  // does not go through the cache entry the stand-in occupies.
  const load = (): YamlV1 => (real ??= (createRequire(yamlPath)('./dist') as { YAML: YamlV1 }).YAML);
  standIn = {
    parse: (text) => load().parse(text),
    stringify: (value) => load().stringify(value),
  };
  const Module = require('node:module') as new (id: string) => NodeJS.Module;
  const entry = new Module(yamlPath);
  entry.filename = yamlPath;
  entry.loaded = true;
  entry.exports = standIn;
  require.cache[yamlPath] = entry;
}

/** opa-wasm, with its YAML parser loaded on first use. */
export function loadOpaWasm(): OpaWasm {
  const yamlPath = opaWasmYamlPath();
  if (yamlPath !== undefined && standIn === undefined) deferYaml(yamlPath);
  return require('@open-policy-agent/opa-wasm') as OpaWasm;
}

/** For tests: whether opa-wasm holds the stand-in, and whether the real parser has been loaded. */
export function opaWasmYamlState(): { standIn: boolean; realLoaded: boolean } {
  const yamlPath = opaWasmYamlPath();
  if (yamlPath === undefined) return { standIn: false, realLoaded: false };
  const inCache = require.cache[yamlPath]?.exports;
  return { standIn: standIn !== undefined && inCache === standIn, realLoaded: require.cache[createRequire(yamlPath).resolve('./dist')] !== undefined };
}
