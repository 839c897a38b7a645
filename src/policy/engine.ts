// The in-process policy engine: a Rego policy compiled to wasm (`opa build -t wasm`), run by
// @open-policy-agent/opa-wasm, answering the policy contract for one entrypoint.
//
// Input goes in as JSON text written straight into wasm memory, and one `opa_eval` call (wasm ABI
// >= 1.2; opa build emits 1.3) evaluates it (direct-eval.ts); opa-wasm's own evaluate() is the
// fallback. On a ~2 KB container create the wasm side (parsing the input, the rules) is most of
// the ~45 µs; JSON.stringify is ~3.5 µs.
import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { loadBundleFile, type BundleLimits, type BundleManifest, type PolicyBundle, DEFAULT_BUNDLE_LIMITS } from './bundle.js';
import type { JsonObject, JsonValue, PolicyDecision, PolicyInput } from './contract.js';
import { PolicyError, describeThrown } from './policy-error.js';
import { directEval, type DirectEval } from './direct-eval.js';
import { loadOpaWasm } from './opa-wasm-loader.js';
import { checkPolicyResult, unwrapResultSet } from './result.js';
import { wasmApi, type WasmGlobal, type WasmModule } from './wasm-api.js';
import { STEPS_EXPORT, UNCOUNTED, WasmFormatError, instrumentSteps } from './wasm-steps.js';

// The package's ESM entry only re-exports the async loadPolicy; the CommonJS one has the sync
// loader, which lets a damaged instance be replaced without making evaluate() async. It is loaded
// with its YAML parser deferred (opa-wasm-loader.ts).
const { loadPolicySync } = loadOpaWasm();

export interface MemoryPages {
  /** 64 KiB pages at start. */
  initial: number;
  /** Hard cap: an input or evaluation needing more fails (and the request is denied). */
  maximum: number;
}

/** A policy engine's parts, as posted to a decision worker. */
export interface PortablePolicy {
  entrypoint: string;
  module: WasmModule;
  /** Why the module counts no steps, when it does not. */
  stepless: string | undefined;
  data: JsonObject;
  memoryPages: MemoryPages;
  manifest: BundleManifest | undefined;
}

export interface PolicyEngineOptions {
  /** Entrypoint path as given to `opa build -e`, e.g. "dockgate/test/decision". */
  entrypoint: string;
  /** Parameters (from the config file), merged over the bundle's data.json; these win. */
  data?: object;
  memoryPages?: MemoryPages;
  limits?: Partial<BundleLimits>;
}

/** 1 MiB to start, 64 MiB at most: ample for judged bodies (bounded by the HTTP layer). */
export const DEFAULT_MEMORY_PAGES: MemoryPages = { initial: 16, maximum: 1024 };

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Config parameters override the bundle's defaults key by key, objects merged recursively.
function mergeData(base: JsonValue | undefined, override: JsonValue): JsonValue {
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const merged: JsonObject = { ...base };
  for (const [key, value] of Object.entries(override)) {
    // defineProperty: a "__proto__" key in config data is data, not a prototype change.
    const next = mergeData(Object.hasOwn(base, key) ? base[key] : undefined, value);
    Object.defineProperty(merged, key, { value: next, writable: true, enumerable: true, configurable: true });
  }
  return merged;
}

function checkMemoryPages(pages: MemoryPages): MemoryPages {
  const { initial, maximum } = pages;
  if (!Number.isInteger(initial) || !Number.isInteger(maximum) || initial < 1 || maximum < initial || maximum > 65536) {
    throw new PolicyError('load', `memoryPages must be integers with 1 <= initial <= maximum <= 65536, got ${JSON.stringify(pages)}`);
  }
  return { initial, maximum };
}

const UTF8 = new TextEncoder();

/** An evaluation stopped for running out of the steps withinSteps() gave it (not a policy failure). */
export class StepsExhausted extends PolicyError {
  constructor(entrypoint: string) {
    super('evaluate', `policy ${entrypoint} ran out of the steps it was given`);
  }
}

interface Instance {
  policy: LoadedPolicy;
  direct: DirectEval | undefined;
  steps: WasmGlobal | undefined;
}

export class PolicyEngine {
  /** The bundle manifest's revision, if it has one. */
  readonly revision: string | undefined;
  readonly manifest: BundleManifest | undefined;
  /** Every entrypoint compiled into the module. */
  readonly entrypoints: readonly string[];

  /** The running instance, its direct evaluation path when opa-wasm's internals allow one, and its step counter. */
  private instance: Instance;
  private readonly entrypointId: number;

  private constructor(
    readonly entrypoint: string,
    private readonly module: WasmModule,
    /** Why withinSteps() is not available (the module could not be given a step counter), or undefined. */
    readonly stepless: string | undefined,
    private readonly data: JsonObject,
    private readonly memoryPages: MemoryPages,
    manifest: BundleManifest | undefined,
  ) {
    this.manifest = manifest;
    this.revision = manifest?.revision;
    this.instance = this.instantiate();
    const ids = this.instance.policy.entrypoints as Record<string, number>;
    this.entrypoints = Object.keys(ids);
    const id = ids[entrypoint];
    if (id === undefined) {
      throw new PolicyError('load', `entrypoint ${JSON.stringify(entrypoint)} is not in the policy module (it has: ${this.entrypoints.join(', ') || 'none'}); build with \`opa build -t wasm -e ${entrypoint}\``);
    }
    this.entrypointId = id;
  }

  /** Loads a `.tar.gz` bundle from `opa build -t wasm` or a bare `.wasm` module. */
  static async load(path: string, opts: PolicyEngineOptions): Promise<PolicyEngine> {
    const bundle = await loadBundleFile(path, { ...DEFAULT_BUNDLE_LIMITS, ...opts.limits });
    try {
      return await PolicyEngine.fromBundle(bundle, opts);
    } catch (err) {
      if (err instanceof PolicyError) throw new PolicyError('load', `${path}: ${err.message}`, { cause: err.cause });
      throw err;
    }
  }

  static async fromBundle(bundle: PolicyBundle, opts: PolicyEngineOptions): Promise<PolicyEngine> {
    const memoryPages = checkMemoryPages(opts.memoryPages ?? DEFAULT_MEMORY_PAGES);
    let wasm = bundle.wasm;
    let stepless: string | undefined;
    try {
      wasm = instrumentSteps(bundle.wasm);
    } catch (err) {
      if (!(err instanceof WasmFormatError)) throw err;
      stepless = err.message; // the module is compiled as it is (and its own errors reported below)
    }
    let module: WasmModule;
    try {
      module = await wasmApi.compile(wasm);
    } catch (counted) {
      // A rewrite the compiler refuses is the step counter's fault when the original compiles.
      if (stepless !== undefined) throw new PolicyError('load', `policy.wasm does not compile: ${describeThrown(counted)}`, { cause: counted });
      try {
        module = await wasmApi.compile(bundle.wasm);
      } catch (err) {
        throw new PolicyError('load', `policy.wasm does not compile: ${describeThrown(err)}`, { cause: err });
      }
      stepless = `the module with a step counter does not compile: ${describeThrown(counted)}`;
    }
    let data: JsonObject = bundle.data ?? {};
    if (opts.data !== undefined) {
      if (!isPlainObject(opts.data)) throw new PolicyError('load', 'policy data must be a JSON object');
      data = mergeData(data, opts.data) as JsonObject; // object over object stays an object
    }
    const manifest = bundle.manifest;
    if (manifest?.wasm && !manifest.wasm.some((w) => w.entrypoint === opts.entrypoint)) {
      const listed = manifest.wasm.map((w) => w.entrypoint).join(', ');
      throw new PolicyError('load', `entrypoint ${JSON.stringify(opts.entrypoint)} is not in the bundle manifest (it lists: ${listed})`);
    }
    return new PolicyEngine(opts.entrypoint, module, stepless, data, memoryPages, manifest);
  }

  /** What a worker thread needs to run the same policy (a compiled module is cloneable). */
  toPortable(): PortablePolicy {
    return { entrypoint: this.entrypoint, module: this.module, stepless: this.stepless, data: this.data, memoryPages: this.memoryPages, manifest: this.manifest };
  }

  /** The engine a worker thread rebuilds from toPortable(): no compile, ~1 ms to instantiate. */
  static fromPortable(p: PortablePolicy): PolicyEngine {
    return new PolicyEngine(p.entrypoint, p.module, p.stepless, p.data, p.memoryPages, p.manifest);
  }

  private instantiate(): Instance {
    try {
      // A fresh descriptor each time: loadPolicySync writes into it.
      const policy = loadPolicySync(this.module, { initial: this.memoryPages.initial, maximum: this.memoryPages.maximum });
      policy.setData(this.data);
      const steps = this.stepless === undefined ? stepCounter(policy) : undefined;
      if (steps) steps.value = UNCOUNTED;
      return { policy, direct: directEval(policy), steps };
    } catch (err) {
      throw new PolicyError('load', `policy module does not start: ${describeThrown(err)}`, { cause: err });
    }
  }

  /**
   * Evaluates the entrypoint on `input` and checks the answer against the contract. Throws
   * PolicyError on any failure (the caller denies): an abort or trap in the policy, a runtime
   * conflict, an input too big for the memory cap, an undefined or malformed result.
   */
  evaluate(input: PolicyInput): PolicyDecision {
    return this.run(input);
  }

  /**
   * evaluate() for an input already serialized as JSON text (the decision worker receives it so):
   * the text goes into wasm memory as is, without a parse here and a serialization in opa-wasm.
   */
  evaluateSerialized(inputJson: string): PolicyDecision {
    return this.run(inputJson);
  }

  /**
   * Runs `fn` (evaluations of this engine) with at most `steps` steps among all its evaluations:
   * function calls and loop iterations in the policy module. An evaluation that would take more
   * is stopped and throws StepsExhausted. Only for an engine whose `stepless` is undefined.
   */
  withinSteps<T>(steps: number, fn: () => T): T {
    if (this.stepless !== undefined) throw new Error(`this policy module counts no steps: ${this.stepless}`);
    this.instance.steps!.value = BigInt(steps);
    try {
      return fn();
    } finally {
      this.instance.steps!.value = UNCOUNTED; // (a stopped evaluation left a new instance)
    }
  }

  private run(input: PolicyInput | string): PolicyDecision {
    let resultSet: unknown;
    try {
      const { policy, direct } = this.instance;
      if (direct) {
        resultSet = direct(typeof input === 'string' ? input : JSON.stringify(input), this.entrypointId);
      } else {
        resultSet = policy.evaluate(typeof input === 'string' ? (UTF8.encode(input).buffer as ArrayBuffer) : input, this.entrypointId);
      }
    } catch (err) {
      // A counter at zero: the module trapped on its step count (withinSteps()).
      const stepsExhausted = this.instance.steps?.value === 0n;
      // An abort unwinds out of the wasm code without restoring its shadow stack pointer, so the
      // instance may be left damaged. Start over from the compiled module (~1 ms).
      this.instance = this.instantiate();
      if (stepsExhausted) throw new StepsExhausted(this.entrypoint);
      const reason = describeThrown(err);
      const hint = /opa_malloc|Maximum memory size/.test(reason) ? ` (policy memory limit: ${this.memoryPages.maximum} pages of 64 KiB)` : '';
      throw new PolicyError('evaluate', `policy ${this.entrypoint} failed: ${reason}${hint}`, { cause: err });
    }
    const result = checkPolicyResult(unwrapResultSet(resultSet));
    return {
      allowed: result.allowed,
      violations: result.violations,
      patch: result.patch,
      warnings: result.warnings,
      revision: this.revision,
    };
  }
}

function stepCounter(policy: LoadedPolicy): WasmGlobal {
  const counter = (policy as unknown as { wasmInstance?: { exports?: Record<string, unknown> } }).wasmInstance?.exports?.[STEPS_EXPORT];
  if (typeof counter !== 'object' || counter === null || !('value' in counter)) throw new Error(`the instance does not export its step counter ${STEPS_EXPORT}`);
  return counter as WasmGlobal;
}
