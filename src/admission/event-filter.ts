import { Transform, type TransformCallback } from 'node:stream';

// The events stream (GET /events) is a sequence of JSON messages, one per line. The owner label
// filter in the query makes dockerd send only the caller's events; this filter checks every
// message again on the way out, so a daemon (or an API-compatible one) that ignores or
// misreads the filter still shows nothing of anyone else. A message that does not parse, or
// that does not carry the caller's label in its actor's attributes, is dropped.

const MAX_LINE = 1024 * 1024;

export function ownEventsFilter(label: string, owner: string): Transform {
  let pending = '';
  const keep = (line: string): boolean => {
    try {
      const message = JSON.parse(line) as { Actor?: { Attributes?: Record<string, unknown> } } | null;
      return message?.Actor?.Attributes?.[label] === owner;
    } catch {
      return false;
    }
  };
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop()!;
      if (pending.length > MAX_LINE) return done(new Error('event message over 1 MiB'));
      const out = lines.filter((l) => l.trim() !== '' && keep(l)).map((l) => `${l}\n`).join('');
      done(null, out === '' ? undefined : out);
    },
    flush(done: TransformCallback) {
      done(null, pending.trim() !== '' && keep(pending) ? pending : undefined);
    },
  });
}
