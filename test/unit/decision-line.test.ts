import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { logDecision, type DecisionLine } from '../../src/audit/decision-log.js';

// The decision line as an operator's log pipeline parses it: one JSON object per line, each key
// once (a JSON parser keeps only the last of duplicate keys; some log shippers reject them).

function capture(): { lines: string[]; log: pino.Logger } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      done();
    },
  });
  return { lines, log: pino({ level: 'info', base: { name: 'dockgate' } }, sink) };
}

const line: DecisionLine = {
  decisionId: 'd-1',
  identity: { listener: 'ci', username: 'runner', groups: ['ci'] },
  method: 'POST',
  route: '/containers/create',
  kind: 'container',
  operation: 'create',
  allowed: true,
  result: 'allowed',
  mode: 'enforce',
  violations: [],
  patch: [{ op: 'add', path: '/Labels/dockgate.owner' }],
  warnings: [],
  latencyMs: 0.25,
};

const keyCount = (text: string, key: string) => text.split(`"${key}":`).length - 1;

describe('decision line', () => {
  it('names the listener once, also through a listener child logger', async () => {
    for (const viaChild of [false, true]) {
      const { lines, log } = capture();
      logDecision(viaChild ? log.child({ listener: 'ci' }) : log, line);
      await new Promise((r) => setImmediate(r));
      expect(lines).toHaveLength(1);
      expect(keyCount(lines[0]!, 'listener'), lines[0]).toBe(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ listener: 'ci', user: 'runner', decision: 'd-1', result: 'allowed', msg: 'admission decision: allowed' });
    }
  });
});
