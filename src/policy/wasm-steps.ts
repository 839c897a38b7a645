// Step counting for a policy module, so an evaluation can run on the event loop and still be
// stopped: the module is rewritten to count down an exported i64 global at the start of every
// function of the policy's plan (see entryCounted) and of every loop iteration anywhere, and to
// trap (`unreachable`) when it reaches zero; growing the memory costs steps as well. Every long
// evaluation either iterates or calls (Rego has no recursion, and a call tree is all calls), so a
// budget of steps bounds how long one can hold the event loop, and how much memory it can grow
// there; an evaluation that runs out is handed to a decision worker, under the wall-clock
// deadline (decision-pool.ts).
//
// Only what is needed is decoded: section boundaries; the imports, globals and exports (to add the
// counter); the types and functions (parameter counts, for a new local); the function names (the
// plan's functions); and the code section instruction by instruction (to find the `loop`s and
// `memory.grow`s and skip every immediate). An opcode this decoder does not know is an error: the
// module then runs without step counting.

/** The name the step counter is exported under (a mutable i64 global). */
export const STEPS_EXPORT = 'dockgate_steps';
/** The counter's value while nothing is counted: -1 takes 2^64 - 1 steps to reach zero. */
export const UNCOUNTED = -1n;

const SECTION = { custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6, export: 7, start: 8, element: 9, code: 10, data: 11, dataCount: 12, tag: 13 } as const;
// Where a new global section goes: before the first section that must follow it.
const AFTER_GLOBAL: ReadonlySet<number> = new Set([SECTION.export, SECTION.start, SECTION.element, SECTION.dataCount, SECTION.code, SECTION.data]);

const I32 = 0x7f;
const I64 = 0x7e;
const OP = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, end: 0x0b, localGet: 0x20, localTee: 0x22, globalGet: 0x23, globalSet: 0x24,
  memoryGrow: 0x40, i64Const: 0x42, i64Eqz: 0x50, i64LtU: 0x54, i64Sub: 0x7d, i64Mul: 0x7e, i64ExtendI32U: 0xad,
} as const;
const EMPTY_BLOCK = 0x40;

export class WasmFormatError extends Error {}

class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
  ) {
    this.pos = start;
  }

  byte(): number {
    if (this.pos >= this.bytes.length) throw new WasmFormatError('unexpected end of the module');
    return this.bytes[this.pos++]!;
  }

  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new WasmFormatError(`LEB128 number too long at byte ${this.pos}`);
  }

  /** Skips a signed LEB128 number of at most `bits` bits. */
  skipSigned(bits: number): void {
    for (let shift = 0; shift < bits + 7; shift += 7) if ((this.byte() & 0x80) === 0) return;
    throw new WasmFormatError(`LEB128 number too long at byte ${this.pos}`);
  }

  skip(n: number): void {
    if (this.pos + n > this.bytes.length) throw new WasmFormatError('unexpected end of the module');
    this.pos += n;
  }
}

function u32Bytes(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}

function nameBytes(name: string): number[] {
  const utf8 = Buffer.from(name, 'utf8');
  return [...u32Bytes(utf8.length), ...utf8];
}

interface Section {
  id: number;
  /** The section's contents, without id and size. */
  body: Uint8Array;
}

function readSections(wasm: Uint8Array): Section[] {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (wasm.length < 8 || header.some((b, i) => wasm[i] !== b)) throw new WasmFormatError('not a wasm 1.0 module');
  const r = new Reader(wasm, 8);
  const sections: Section[] = [];
  while (r.pos < wasm.length) {
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    r.skip(size);
    sections.push({ id, body: wasm.subarray(start, start + size) });
  }
  return sections;
}

function writeModule(sections: readonly Section[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00)];
  for (const s of sections) parts.push(Uint8Array.of(s.id, ...u32Bytes(s.body.length)), s.body);
  return Buffer.concat(parts);
}

/** A vector section's entry count, and its entries' bytes. */
function vectorOf(body: Uint8Array): { count: number; rest: Uint8Array } {
  const r = new Reader(body);
  const count = r.u32();
  return { count, rest: body.subarray(r.pos) };
}

function withAppended(body: Uint8Array | undefined, entry: readonly number[]): Uint8Array {
  const { count, rest } = body ? vectorOf(body) : { count: 0, rest: new Uint8Array(0) };
  return Buffer.concat([Uint8Array.from(u32Bytes(count + 1)), rest, Uint8Array.from(entry)]);
}

function skipLimits(r: Reader): void {
  const flags = r.byte();
  r.u32();
  if (flags & 1) r.u32();
}

/** How many functions and globals the module imports (they come first in their index spaces). */
function importCounts(body: Uint8Array | undefined): { functions: number; globals: number } {
  const counts = { functions: 0, globals: 0 };
  if (!body) return counts;
  const r = new Reader(body);
  for (let n = r.u32(); n > 0; n--) {
    r.skip(r.u32()); // module
    r.skip(r.u32()); // name
    const kind = r.byte();
    if (kind === 0) {
      r.u32(); // function: type index
      counts.functions++;
    } else if (kind === 1) {
      r.byte(); // table: reference type
      skipLimits(r);
    } else if (kind === 2) skipLimits(r); // memory
    else if (kind === 3) {
      r.skip(2); // global: value type, mutability
      counts.globals++;
    } else if (kind === 4) {
      r.byte(); // tag: attribute, type index
      r.u32();
    } else throw new WasmFormatError(`unknown import kind ${kind}`);
  }
  return counts;
}

// OPA names the functions compiled from the policy's rules and functions `g<N>.data.…`; the rest
// of the module is its runtime library (values, JSON, builtins, malloc, regular expressions).
const PLAN_FUNCTION = /^g[0-9]+\./;

/** Function index → name, from the custom "name" section (empty without one). */
function functionNames(sections: readonly Section[]): Map<number, string> {
  const names = new Map<number, string>();
  for (const s of sections) {
    if (s.id !== SECTION.custom) continue;
    const r = new Reader(s.body);
    const length = r.u32();
    if (Buffer.from(s.body.subarray(r.pos, r.pos + length)).toString('utf8') !== 'name') continue;
    r.skip(length);
    while (r.pos < s.body.length) {
      const sub = r.byte();
      const end = r.u32() + r.pos;
      if (sub === 1) {
        for (let n = r.u32(); n > 0; n--) {
          const index = r.u32();
          const size = r.u32();
          names.set(index, Buffer.from(s.body.subarray(r.pos, r.pos + size)).toString('utf8'));
          r.skip(size);
        }
      }
      r.pos = end;
    }
  }
  return names;
}

/**
 * Which function bodies count a step on entry. A loop-free call tree is the only long computation
 * without loops, and in a policy module only the plan's functions call each other in ways the
 * policy's author shapes, so they count; the runtime's small functions (called a great many times
 * per evaluation) do not, and their loops still do. A module whose names do not show the plan's
 * functions counts on every entry.
 */
function entryCounted(sections: readonly Section[], importedFunctions: number): (body: number) => boolean {
  const names = functionNames(sections);
  const plan = new Set<number>();
  for (const [index, name] of names) if (PLAN_FUNCTION.test(name)) plan.add(index - importedFunctions);
  if (plan.size === 0) return () => true;
  return (body) => plan.has(body);
}

function skipBlockType(r: Reader): void {
  const b = r.bytes[r.pos];
  if (b === EMPTY_BLOCK || (b !== undefined && b >= 0x6f && b <= 0x7f)) r.skip(1);
  else r.skipSigned(33); // a type index
}

/** Skips the immediates of the opcode just read; returns false for an opcode it does not know. */
function skipImmediates(r: Reader, op: number): boolean {
  if (op === OP.block || op === OP.loop || op === OP.if) skipBlockType(r);
  else if (op === 0x0c || op === 0x0d || op === 0x10 || op === 0xd2 || op === 0x25 || op === 0x26 || (op >= 0x20 && op <= 0x24)) r.u32();
  else if (op === 0x0e) {
    for (let n = r.u32(); n >= 0; n--) r.u32(); // the labels and the default
  } else if (op === 0x11) {
    r.u32();
    r.u32();
  } else if (op >= 0x28 && op <= 0x3e) {
    r.u32(); // memarg: alignment, offset
    r.u32();
  } else if (op === 0x3f || op === 0x40 || op === 0xd0) r.skip(1);
  else if (op === 0x41) r.skipSigned(32);
  else if (op === OP.i64Const) r.skipSigned(64);
  else if (op === 0x43) r.skip(4);
  else if (op === 0x44) r.skip(8);
  else if (op === 0x1c) r.skip(r.u32());
  else if (op === 0xfc) return skipPrefixed(r, r.u32());
  // The rest take no immediates: control (unreachable, nop, else, end, return), drop, select,
  // ref.is_null, and the numeric operators.
  else if (!(op <= 0x01 || op === 0x05 || op === OP.end || op === 0x0f || op === 0x1a || op === 0x1b || op === 0xd1 || (op >= 0x45 && op <= 0xc4))) return false;
  return true;
}

// The 0xFC group: saturating truncations, bulk memory and table operations.
function skipPrefixed(r: Reader, sub: number): boolean {
  if (sub <= 7) return true;
  if (sub === 8) {
    r.u32();
    r.skip(1);
  } else if (sub === 10) r.skip(2);
  else if (sub === 11) r.skip(1);
  else if (sub === 12 || sub === 14) {
    r.u32();
    r.u32();
  } else if (sub === 9 || (sub >= 13 && sub <= 17)) r.u32();
  else return false;
  return true;
}

/** `if steps == 0 { trap } steps -= 1`, for the global `g`. */
function countStep(g: readonly number[]): number[] {
  return [OP.globalGet, ...g, OP.i64Eqz, OP.if, EMPTY_BLOCK, OP.unreachable, OP.end, OP.globalGet, ...g, OP.i64Const, 1, OP.i64Sub, OP.globalSet, ...g];
}

// Memory is charged too: an evaluation on the event loop grows the main thread's instance, which
// keeps what it grew (until it is rebuilt and collected), so growing by a 64 KiB page costs this
// many steps, and the budget bounds the memory as well as the time (~12 MiB for 200 000 steps).
export const STEPS_PER_PAGE = 1024;

/**
 * Before `memory.grow` (its page count on the stack, `t` a scratch i32 local):
 * `cost = pages × STEPS_PER_PAGE; if steps <u cost { steps = 0; trap } steps -= cost`.
 */
function chargeGrowth(g: readonly number[], t: readonly number[]): number[] {
  const cost = [OP.localGet, ...t, OP.i64ExtendI32U, OP.i64Const, ...s64Bytes(STEPS_PER_PAGE), OP.i64Mul];
  return [
    OP.localTee, ...t,
    OP.globalGet, ...g, ...cost, OP.i64LtU, OP.if, EMPTY_BLOCK, OP.i64Const, 0, OP.globalSet, ...g, OP.unreachable, OP.end,
    OP.globalGet, ...g, ...cost, OP.i64Sub, OP.globalSet, ...g,
  ];
}

/** Signed LEB128 of a small non-negative integer. */
function s64Bytes(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value === 0 && (b & 0x40) === 0) return [...out, b];
    out.push(b | 0x80);
  }
}

/** Parameter count of each defined function's type (type and function sections). */
function parameterCounts(sections: readonly Section[]): number[] {
  const types: number[] = [];
  const typeSection = sections.find((s) => s.id === SECTION.type);
  if (typeSection) {
    const r = new Reader(typeSection.body);
    for (let n = r.u32(); n > 0; n--) {
      if (r.byte() !== 0x60) throw new WasmFormatError('a type that is not a function type');
      const params = r.u32();
      r.skip(params);
      r.skip(r.u32());
      types.push(params);
    }
  }
  const counts: number[] = [];
  const functionSection = sections.find((s) => s.id === SECTION.function);
  if (functionSection) {
    const r = new Reader(functionSection.body);
    for (let n = r.u32(); n > 0; n--) {
      const params = types[r.u32()];
      if (params === undefined) throw new WasmFormatError('a function of an unknown type');
      counts.push(params);
    }
  }
  return counts;
}

/** One function body with its steps counted; `plan`: a function of the policy's plan (counted on entry). */
function instrumentBody(body: Uint8Array, f: number, plan: boolean, params: number, g: readonly number[]): Uint8Array {
  const r = new Reader(body);
  const groups = r.u32();
  const groupsStart = r.pos;
  let locals = params;
  for (let i = 0; i < groups; i++) {
    locals += r.u32();
    r.byte(); // of which type
  }
  const codeStart = r.pos;
  const step = countStep(g);
  const t = u32Bytes(locals); // memory.grow's scratch local, after the others
  // Where to insert what: after a loop's block type, before a memory.grow.
  const insertions: { at: number; bytes: readonly number[] }[] = plan ? [{ at: codeStart, bytes: step }] : [];
  let grows = false;
  while (r.pos < body.length) {
    const at = r.pos;
    const op = r.byte();
    if (!skipImmediates(r, op)) throw new WasmFormatError(`function ${f}: opcode 0x${op.toString(16)} at byte ${at} is not known to the step counter`);
    if (op === OP.loop) insertions.push({ at: r.pos, bytes: step });
    else if (op === OP.memoryGrow) {
      insertions.push({ at, bytes: chargeGrowth(g, t) });
      grows = true;
    }
  }
  if (insertions.length === 0) return body;
  // A function that grows memory gets one i32 local more.
  const pieces: Uint8Array[] = [grows ? Uint8Array.from([...u32Bytes(groups + 1), ...body.subarray(groupsStart, codeStart), 1, I32]) : body.subarray(0, codeStart)];
  let from = codeStart;
  for (const { at, bytes } of insertions) {
    pieces.push(body.subarray(from, at), Uint8Array.from(bytes));
    from = at;
  }
  pieces.push(body.subarray(from));
  return Buffer.concat(pieces);
}

function instrumentCode(body: Uint8Array, g: readonly number[], countsEntry: (body: number) => boolean, params: readonly number[]): Uint8Array {
  const r = new Reader(body);
  const functions = r.u32();
  if (functions !== params.length) throw new WasmFormatError(`${functions} function bodies for ${params.length} functions`);
  const parts: Uint8Array[] = [Uint8Array.from(u32Bytes(functions))];
  for (let f = 0; f < functions; f++) {
    const size = r.u32();
    const start = r.pos;
    r.skip(size);
    const rewritten = instrumentBody(body.subarray(start, start + size), f, countsEntry(f), params[f]!, g);
    parts.push(Uint8Array.from(u32Bytes(rewritten.length)), rewritten);
  }
  if (r.pos !== body.length) throw new WasmFormatError('bytes after the last function body');
  return Buffer.concat(parts);
}

/**
 * The module with a step counter: an exported mutable i64 global named STEPS_EXPORT, counted down
 * at every entry into a plan function, every loop iteration and every page of memory grown; at
 * zero the module traps. Throws WasmFormatError
 * for a module it cannot rewrite (the original is then used as is).
 */
export function instrumentSteps(wasm: Uint8Array): Uint8Array {
  const sections = readSections(wasm);
  const find = (id: number) => sections.find((s) => s.id === id);
  const code = find(SECTION.code);
  if (!code) throw new WasmFormatError('the module has no code section');
  const globals = find(SECTION.global);
  const imported = importCounts(find(SECTION.import)?.body);
  const index = imported.globals + (globals ? vectorOf(globals.body).count : 0);
  const countsEntry = entryCounted(sections, imported.functions);
  // A mutable i64 starting at -1 (2^64 - 1 steps before it reaches zero: uncounted), and its export.
  const newGlobals = withAppended(globals?.body, [I64, 1, OP.i64Const, 0x7f, OP.end]);
  const newExports = withAppended(find(SECTION.export)?.body, [...nameBytes(STEPS_EXPORT), 3, ...u32Bytes(index)]);

  const out: Section[] = [];
  let placedGlobals = false;
  let placedExports = false;
  for (const s of sections) {
    if (!placedGlobals && (s.id === SECTION.global || AFTER_GLOBAL.has(s.id))) {
      out.push({ id: SECTION.global, body: newGlobals });
      placedGlobals = true;
      if (s.id === SECTION.global) continue;
    }
    if (!placedExports && AFTER_GLOBAL.has(s.id)) {
      out.push({ id: SECTION.export, body: newExports });
      placedExports = true;
      if (s.id === SECTION.export) continue;
    }
    out.push(s.id === SECTION.code ? { id: s.id, body: instrumentCode(s.body, u32Bytes(index), countsEntry, parameterCounts(sections)) } : s);
  }
  return writeModule(out);
}
