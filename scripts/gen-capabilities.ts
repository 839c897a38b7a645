// Generates policy/capabilities.json: the builtins a Rego policy may use when it is compiled to
// wasm and run by @open-policy-agent/opa-wasm inside dockgate. With this file passed to
// `opa build --capabilities`, a policy calling anything else (http.send, time.now_ns, ...) fails
// the BUILD instead of throwing "not implemented" at request time.
//
// The set is measured, not copied: every builtin the pinned opa knows (`opa capabilities
// --current`) is called from one probe policy compiled to wasm; the module's `builtins()` export
// lists the calls the compiler could not implement natively and delegates to the host. Allowed =
// native ones + the host ones the npm package implements in JS. (The capabilities.json shipped in
// the npm package is stale: it lists e.g. rand.intn and time.diff, which it cannot run.)
//
// Usage: node scripts/gen-capabilities.ts           rewrite policy/capabilities.json
//        node scripts/gen-capabilities.ts --check   exit 1 when the committed file is out of date
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface BuiltinDecl {
  args?: unknown[];
  result?: unknown;
  variadic?: unknown;
}
interface Builtin {
  name: string;
  decl: BuiltinDecl;
  deprecated?: boolean;
  [key: string]: unknown;
}
interface Capabilities {
  builtins: Builtin[];
  wasm_abi_versions?: unknown[];
  features?: string[];
  [key: string]: unknown;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const opa = join(root, 'scripts', 'opa.sh');
const outFile = join(root, 'policy', 'capabilities.json');

const UNIFICATION = new Set(['eq', 'assign']);

function runOpa(args: string[], cwd = root): string {
  try {
    return execFileSync(opa, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: 'pipe' });
  } catch (err) {
    // opa prints compile errors on stdout; surface them instead of a bare exit status.
    const out = err as { stdout?: string; stderr?: string };
    throw new Error(`opa ${args.join(' ')} failed:\n${out.stdout ?? ''}${out.stderr ?? ''}`);
  }
}

// The npm package's own files: its JS builtins and the wasm ABI versions it can load.
function npmPackage(): { jsBuiltins: Set<string>; abiVersions: unknown[] } {
  const require = createRequire(import.meta.url);
  // The package's export map hides src/builtins; resolve the entry and walk from there.
  const pkgDir = resolve(dirname(require.resolve('@open-policy-agent/opa-wasm')), '..');
  const builtins = require(join(pkgDir, 'src', 'builtins', 'index.js')) as Record<string, unknown>;
  const caps = JSON.parse(readFileSync(join(pkgDir, 'capabilities.json'), 'utf8')) as Capabilities;
  if (!Array.isArray(caps.wasm_abi_versions) || caps.wasm_abi_versions.length === 0) {
    throw new Error('opa-wasm capabilities.json has no wasm_abi_versions');
  }
  return { jsBuiltins: new Set(Object.keys(builtins)), abiVersions: caps.wasm_abi_versions };
}

// One rule per builtin, each called with `input.*` arguments (type any, so every call type-checks).
function probePolicy(builtins: Builtin[]): string {
  const lines = ['package probe', ''];
  const rules: string[] = [];
  builtins.forEach((b, i) => {
    const arity = b.decl.args?.length ?? (b.decl.variadic !== undefined ? 1 : 0);
    const args = Array.from({ length: arity }, (_, j) => `input.a${j}`).join(', ');
    const rule = `r${i}`;
    rules.push(rule);
    // Builtins without a result (print) can only be called as a statement.
    lines.push(b.decl.result === undefined ? `${rule} if ${b.name}(${args})` : `${rule} := ${b.name}(${args})`);
  });
  lines.push('', `main := [${rules.join(', ')}]`, '');
  return lines.join('\n');
}

// TypeScript declares `WebAssembly` only in its DOM libs; type the three constructors used here.
interface WasmApi {
  Memory: new (d: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

// Reads the JSON behind the wasm module's `builtins()` export: the host-delegated builtin names.
function hostBuiltins(wasm: Buffer): Set<string> {
  const memory = new wasmApi.Memory({ initial: 16 });
  const trap = (): never => {
    throw new Error('probe module must not call imports');
  };
  const env: Record<string, unknown> = { memory, opa_abort: trap, opa_println: trap };
  for (let n = 0; n <= 4; n++) env[`opa_builtin${n}`] = trap;
  const instance = new wasmApi.Instance(new wasmApi.Module(wasm), { env });
  const exports = instance.exports as Record<string, (...a: number[]) => number>;
  const addr = exports.opa_json_dump!(exports.builtins!());
  const bytes = new Uint8Array(memory.buffer);
  const end = bytes.indexOf(0, addr);
  const map = JSON.parse(new TextDecoder().decode(bytes.subarray(addr, end))) as Record<string, number>;
  return new Set(Object.keys(map));
}

function generate(): string {
  const current = JSON.parse(runOpa(['capabilities', '--current'])) as Capabilities;
  const { jsBuiltins, abiVersions } = npmPackage();
  // Deprecated builtins are refused by the Rego v1 compiler anyway; leave them out.
  const candidates = current.builtins.filter((b) => b.deprecated !== true);
  // `=` and `:=` are the language's unification and assignment: the planner compiles them out, so
  // they are always native and cannot be called like functions in a probe.
  const probed = candidates.filter((b) => !UNIFICATION.has(b.name));

  const dir = mkdtempSync(join(tmpdir(), 'dockgate-caps-'));
  try {
    writeFileSync(join(dir, 'probe.rego'), probePolicy(probed));
    writeFileSync(join(dir, 'caps.json'), JSON.stringify({ ...current, wasm_abi_versions: abiVersions }));
    runOpa(['build', '-t', 'wasm', '-e', 'probe/main', '--capabilities', 'caps.json', '-o', 'probe.tar.gz', 'probe.rego'], dir);
    execFileSync('tar', ['-xzf', 'probe.tar.gz', '--no-same-owner', '--transform', 's,^/,,', '/policy.wasm'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const host = hostBuiltins(readFileSync(join(dir, 'policy.wasm')));
    const unknownHost = [...host].filter((n) => !probed.some((b) => b.name === n));
    if (unknownHost.length > 0) throw new Error(`probe reported unknown builtins: ${unknownHost.join(', ')}`);

    const allowed = candidates.filter((b) => !host.has(b.name) || jsBuiltins.has(b.name));
    const caps = { builtins: allowed, wasm_abi_versions: abiVersions, features: ['rego_v1'] };
    return `${JSON.stringify(caps, null, 2)}\n`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const text = generate();
const count = (JSON.parse(text) as Capabilities).builtins.length;
if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(outFile, 'utf8');
  } catch {
    // missing file: reported below as out of date
  }
  if (committed !== text) {
    console.error('policy/capabilities.json is out of date: run `node scripts/gen-capabilities.ts`');
    process.exit(1);
  }
  console.log(`policy/capabilities.json is up to date (${count} builtins)`);
} else {
  writeFileSync(outFile, text);
  console.log(`wrote policy/capabilities.json (${count} builtins)`);
}
