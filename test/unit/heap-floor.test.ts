import { describe, expect, it } from 'vitest';
import { HEAP_FLOOR_MIB, heapFloorExecArgv } from '../../src/runtime/heap-floor.js';

describe('heapFloorExecArgv', () => {
  it('adds the old-generation floor after the flags node was started with', () => {
    expect(heapFloorExecArgv(['--trace-gc'])).toEqual(['--trace-gc', `--initial-old-space-size=${HEAP_FLOOR_MIB}`]);
    expect(heapFloorExecArgv([])).toEqual([`--initial-old-space-size=${HEAP_FLOOR_MIB}`]);
  });

  it("keeps the operator's own size in either spelling (and so never re-executes twice)", () => {
    expect(heapFloorExecArgv(['--initial-old-space-size=16'])).toBeUndefined();
    expect(heapFloorExecArgv(['--initial_old_space_size=256', '--cpu-prof'])).toBeUndefined();
    expect(heapFloorExecArgv(heapFloorExecArgv(['--cpu-prof'])!)).toBeUndefined();
  });
});
