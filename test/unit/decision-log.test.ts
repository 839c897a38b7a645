import { describe, expect, it } from 'vitest';
import { EventBuffer } from '../../src/decision-log/buffer.js';
import { erasePaths } from '../../src/decision-log/mask.js';

describe('decision-log masking', () => {
  it('erases present paths (objects, arrays, escaped names) without touching the original', () => {
    const input = { object: { Env: ['A=1'], Labels: { 'a/b': 'x', keep: 'y' }, Cmd: ['sh', '-c', 'secret'] }, kind: 'container' };
    const event: Record<string, unknown> = { input, result: { allowed: true } };
    const erased = erasePaths(event, ['/input/object/Env', '/input/object/Labels/a~1b', '/input/object/Cmd/2', '/input/object/Missing', '/input/object/Cmd/9', '/result']);
    expect(erased).toEqual(['/input/object/Env', '/input/object/Labels/a~1b', '/input/object/Cmd/2', '/result']);
    expect(event).toEqual({ input: { object: { Labels: { keep: 'y' }, Cmd: ['sh', '-c'] }, kind: 'container' } });
    expect(input.object.Env).toEqual(['A=1']);
    expect(input.object.Labels).toEqual({ 'a/b': 'x', keep: 'y' });
    expect(input.object.Cmd).toHaveLength(3);
  });
});

describe('decision-log buffer', () => {
  it('keeps at most maxBytes, dropping the oldest and counting them', () => {
    let dropped = 0;
    const buffer = new EventBuffer(30, (n) => (dropped += n));
    for (const l of ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc', 'dddddddddd']) buffer.push(l);
    expect(dropped).toBe(1);
    expect(buffer.bytes).toBe(30);
    expect(buffer.take(20)).toEqual(['bbbbbbbbbb', 'cccccccccc']);
    buffer.push('eeeeeeeeee');
    buffer.requeue(['bbbbbbbbbb', 'cccccccccc']); // over the bound again: the oldest go
    expect(dropped).toBe(2);
    expect(buffer.take(1000)).toEqual(['cccccccccc', 'dddddddddd', 'eeeeeeeeee']);
    buffer.push('x'.repeat(31));
    expect(dropped).toBe(3);
    expect(buffer.length).toBe(0);
  });

  it('always takes at least one event, even one larger than the batch size', () => {
    const buffer = new EventBuffer(100, () => {});
    buffer.push('x'.repeat(50));
    expect(buffer.take(10)).toHaveLength(1);
  });
});
