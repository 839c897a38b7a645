// The few WebAssembly JS API pieces the engine uses, typed locally: TypeScript only declares the
// `WebAssembly` namespace in its DOM libs, which this Node project does not load.

/** A compiled module (opaque here; handed back to opa-wasm). */
export interface WasmModule {
  readonly __wasmModule?: never;
}

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** A mutable i64 global exported by a module (its value is a bigint). */
export interface WasmGlobal {
  value: bigint;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
}

export const wasmApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
