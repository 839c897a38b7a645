import { engineRequest } from './engine-api.js';

// Reading dockgate's /metrics in tests: the Prometheus text format, parsed just enough to sum
// the series of one metric that carry given labels.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of `name`'s series whose labels include `labels` (0 when there is none). */
export function sumOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((acc, s) => acc + s.value, 0);
}

/** GET /metrics from an admin listener on a unix socket. */
export async function scrape(adminSocket: string): Promise<Sample[]> {
  const r = await engineRequest(adminSocket, 'GET', '/metrics');
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}: ${r.text()}`);
  if (!String(r.headers['content-type']).startsWith('text/plain')) throw new Error(`/metrics Content-Type ${r.headers['content-type']}`);
  return parsePrometheus(r.text());
}
