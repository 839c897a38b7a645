// One evaluation straight through the policy module's exports (wasm ABI >= 1.2: a single
// `opa_eval` call), for an input given as JSON text. The text is encoded in place into wasm memory
// and the result decoded with a reused decoder; opa-wasm's evaluate() builds a TextEncoder, a
// TextDecoder and a copy of the input on every call (~1.5 µs of a ~45 µs create decision).
// This reads fields of opa-wasm's LoadedPolicy, so they are checked first: when they are not as
// expected there is no direct path and the engine uses evaluate().
import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
import type { WasmMemory } from './wasm-api.js';

/** Evaluates one entrypoint on JSON text; returns opa-wasm's result set. Throws what wasm throws. */
export type DirectEval = (inputJson: string, entrypoint: number) => unknown;

interface Internals {
  minorVersion: unknown;
  mem: Partial<WasmMemory> | undefined;
  wasmInstance: { exports?: Record<string, unknown> } | undefined;
  dataAddr: unknown;
  dataHeapPtr: unknown;
}

type OpaEval = (reserved: 0, entrypoint: number, data: number, input: number, inputLen: number, heap: number, wantValue: 0) => number;

const PAGE_BYTES = 65536;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function directEval(policy: LoadedPolicy): DirectEval | undefined {
  const p = policy as unknown as Internals;
  const opaEval = p.wasmInstance?.exports?.opa_eval;
  if (
    typeof p.minorVersion !== 'number' ||
    p.minorVersion < 2 ||
    !(p.mem?.buffer instanceof ArrayBuffer) ||
    typeof p.mem.grow !== 'function' ||
    typeof opaEval !== 'function' ||
    typeof p.dataAddr !== 'number' ||
    typeof p.dataHeapPtr !== 'number'
  ) {
    return undefined;
  }
  const mem = p.mem as WasmMemory;
  const evaluate = opaEval as OpaEval;
  return (inputJson, entrypoint) => {
    // setData() moves both; read them per call, as opa-wasm does. The input goes where the
    // heap of the evaluation would start, and the heap starts after it.
    const dataAddr = p.dataAddr as number;
    const inputAddr = p.dataHeapPtr as number;
    let { read, written } = encoder.encodeInto(inputJson, new Uint8Array(mem.buffer, inputAddr));
    if (read < inputJson.length) {
      // Does not fit the memory as it is: grow it (a RangeError past the cap) and write again.
      const missing = inputAddr + Buffer.byteLength(inputJson) - mem.buffer.byteLength;
      mem.grow(Math.ceil(missing / PAGE_BYTES));
      ({ read, written } = encoder.encodeInto(inputJson, new Uint8Array(mem.buffer, inputAddr)));
    }
    const resultAddr = evaluate(0, entrypoint, dataAddr, inputAddr, written, inputAddr + written, 0);
    // The result is NUL-terminated JSON text (memory may have grown: take a fresh view).
    const out = new Uint8Array(mem.buffer);
    const end = out.indexOf(0, resultAddr);
    if (end < 0) throw new Error('policy result is not terminated');
    return JSON.parse(decoder.decode(out.subarray(resultAddr, end)));
  };
}
