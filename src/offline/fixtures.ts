// The policy author's unit test runner (`dockgate test SUITE`): fixture cases (policy/fixtures/
// README.md) evaluated by dockgate's own engine on the compiled wasm, so wasm-only differences
// (ordering, builtins) show up, not just what `opa test` sees.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { decide } from '../admission/decide.js';
import { applyPatch } from '../admission/json-patch.js';
import { loadBundleFile, type PolicyBundle } from '../policy/bundle.js';
import type { JsonPatchOperation, JsonValue, PolicyDecision, PolicyInput } from '../policy/contract.js';
import { chooseEntrypoint } from '../policy/default-policy.js';
import { PolicyEngine } from '../policy/engine.js';
import { PolicyError } from '../policy/policy-error.js';

export class FixtureError extends Error {}

export interface FixtureExpect {
  allowed: boolean;
  /** Exactly the rule ids in `violations` (any action), as a sorted set. */
  rules?: string[];
  patch?: JsonPatchOperation[];
  patchContains?: JsonPatchOperation[];
  /** Each JavaScript RegExp matches at least one warning. */
  warningsMatch?: string[];
  /** Each RegExp matches at least one violation message. */
  messagesMatch?: string[];
  /** The body after every mutation round (what the proxy forwards). */
  object?: JsonValue;
}

export interface FixtureCase {
  file: string;
  name: string;
  profile?: string;
  config?: JsonValue;
  input: PolicyInput;
  expect: FixtureExpect;
}

export interface CaseResult {
  file: string;
  name: string;
  /** Empty when the case passed. */
  failures: string[];
}

const CASE_KEYS = new Set(['name', 'profile', 'config', 'input', 'expect']);
const EXPECT_KEYS = new Set(['allowed', 'rules', 'patch', 'patchContains', 'warningsMatch', 'messagesMatch', 'object']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The *.json case files of a suite: a file, or every .json file of a directory. */
export function suiteFiles(suite: string): string[] {
  let stat;
  try {
    stat = statSync(suite);
  } catch (err) {
    throw new FixtureError(`cannot read suite ${suite}: ${(err as Error).message}`);
  }
  if (!stat.isDirectory()) return [suite];
  const files = readdirSync(suite).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(suite, f));
  if (files.length === 0) throw new FixtureError(`${suite}: no *.json fixture files`);
  return files;
}

/** Reads and checks one case file. Unknown keys are errors: a misspelt expectation would never fail. */
export function loadCases(file: string): FixtureCase[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FixtureError(`${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(doc)) throw new FixtureError(`${file}: must be a JSON array of cases`);
  const names = new Set<string>();
  return doc.map((raw, i) => {
    const where = `${file}: case ${i}`;
    if (!isRecord(raw)) throw new FixtureError(`${where}: must be an object`);
    for (const key of Object.keys(raw)) if (!CASE_KEYS.has(key)) throw new FixtureError(`${where}: unknown field "${key}"`);
    if (typeof raw.name !== 'string' || raw.name === '') throw new FixtureError(`${where}: "name" must be a non-empty string`);
    if (names.has(raw.name)) throw new FixtureError(`${where}: name "${raw.name}" is used twice`);
    names.add(raw.name);
    if (!isRecord(raw.input)) throw new FixtureError(`${where} (${raw.name}): "input" must be an object`);
    const expect = raw.expect;
    if (!isRecord(expect) || typeof expect.allowed !== 'boolean') throw new FixtureError(`${where} (${raw.name}): "expect.allowed" must be true or false`);
    for (const key of Object.keys(expect)) if (!EXPECT_KEYS.has(key)) throw new FixtureError(`${where} (${raw.name}): unknown expectation "${key}" (known: ${[...EXPECT_KEYS].join(', ')})`);
    for (const key of ['warningsMatch', 'messagesMatch'] as const) {
      for (const re of (expect[key] as unknown[] | undefined) ?? []) {
        try {
          new RegExp(String(re));
        } catch (err) {
          throw new FixtureError(`${where} (${raw.name}): ${key}: ${(err as Error).message}`);
        }
      }
    }
    return { file, ...(raw as Omit<FixtureCase, 'file'>) };
  });
}

const show = (v: unknown): string => JSON.stringify(v);

// Awaits the engine and decide() so an asynchronous evaluator (an evaluation deadline) fits as is.
async function checkOne(c: FixtureCase, engine: PolicyEngine): Promise<string[]> {
  const failures: string[] = [];
  const { expect } = c;
  let first: PolicyDecision;
  try {
    first = await engine.evaluate(c.input);
  } catch (err) {
    return [`evaluation failed: ${(err as Error).message}`];
  }
  if (first.allowed !== expect.allowed) failures.push(`allowed: expected ${expect.allowed}, got ${first.allowed}`);
  if (expect.rules !== undefined) {
    const got = [...new Set(first.violations.map((v) => v.rule))].sort();
    const want = [...expect.rules].sort();
    if (!isDeepStrictEqual(got, want)) failures.push(`rules:\n      expected ${show(want)}\n      got      ${show(got)}${first.violations.length ? `\n      violations: ${first.violations.map((v) => `${v.rule} [${v.action}]: ${v.message}`).join('\n                  ')}` : ''}`);
  }
  if (expect.patch !== undefined && !isDeepStrictEqual(first.patch, expect.patch)) {
    failures.push(`patch:\n      expected ${show(expect.patch)}\n      got      ${show(first.patch)}`);
  }
  for (const op of expect.patchContains ?? []) {
    if (!first.patch.some((p) => isDeepStrictEqual(p, op))) failures.push(`patch does not contain ${show(op)}\n      patch: ${show(first.patch)}`);
  }
  for (const re of expect.warningsMatch ?? []) {
    if (!first.warnings.some((w) => new RegExp(re).test(w))) failures.push(`no warning matches /${re}/\n      warnings: ${show(first.warnings)}`);
  }
  for (const re of expect.messagesMatch ?? []) {
    if (!first.violations.some((v) => new RegExp(re).test(v.message))) failures.push(`no violation message matches /${re}/\n      messages: ${show(first.violations.map((v) => v.message))}`);
  }
  // The library's idempotence guarantee (policy/README.md): the patched object needs no more patching.
  if (first.patch.length > 0 && c.input.object !== undefined) {
    try {
      const again = await engine.evaluate({ ...c.input, object: applyPatch(c.input.object, first.patch) });
      if (again.patch.length > 0) failures.push(`not idempotent: the patched object gets another patch ${show(again.patch)}`);
      if (again.allowed !== first.allowed) failures.push(`not idempotent: allowed changes from ${first.allowed} to ${again.allowed} on the patched object`);
    } catch (err) {
      failures.push(`patched object: ${(err as Error).message}`);
    }
  }
  if (expect.object !== undefined) {
    try {
      const admission = await decide(engine, c.input);
      if (!isDeepStrictEqual(admission.object, expect.object)) failures.push(`object after mutation:\n      expected ${show(expect.object)}\n      got      ${show(admission.object)}`);
    } catch (err) {
      failures.push(`mutation rounds failed: ${(err as Error).message}`);
    }
  }
  return failures;
}

export interface RunOptions {
  bundle: string;
  /** Default: as for serve (the bundle's only entrypoint, else the library's). */
  entrypoint?: string;
  /** Only cases whose name matches. */
  filter?: RegExp;
}

/** Runs every case; one engine per distinct `config` (it is policy data, fixed at load). */
export async function runCases(cases: FixtureCase[], opts: RunOptions): Promise<CaseResult[]> {
  let bundle: PolicyBundle;
  try {
    bundle = await loadBundleFile(opts.bundle);
  } catch (err) {
    throw new PolicyError('load', `cannot read policy bundle ${opts.bundle}: ${(err as Error).message}`, { cause: err });
  }
  const entrypoint = chooseEntrypoint(bundle, opts.entrypoint);
  const engines = new Map<string, PolicyEngine>();
  const results: CaseResult[] = [];
  for (const c of cases) {
    if (opts.filter && !opts.filter.test(c.name)) continue;
    const key = c.config === undefined ? '' : JSON.stringify(c.config);
    let engine = engines.get(key);
    if (!engine) {
      engine = await PolicyEngine.fromBundle(bundle, { entrypoint, ...(c.config !== undefined ? { data: { dockgate: { config: c.config } } } : {}) });
      engines.set(key, engine);
    }
    results.push({ file: c.file, name: c.name, failures: await checkOne(c, engine) });
  }
  return results;
}
