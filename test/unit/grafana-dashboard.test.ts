import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { DockgateMetrics } from '../../src/metrics/metrics.js';
import { REPO_ROOT } from '../support/repo.js';

// The Grafana dashboard (deploy/grafana/dockgate.json) may only query metrics dockgate exports,
// with labels those metrics have: a renamed metric or label breaks this test, not a dashboard in
// production.

type Panel = { type: string; title: string; targets?: { expr: string }[]; gridPos: { x: number; w: number } };

const dashboard = JSON.parse(readFileSync(path.join(REPO_ROOT, 'deploy', 'grafana', 'dockgate.json'), 'utf8')) as {
  uid: string;
  panels: Panel[];
  annotations: { list: { expr: string }[] };
};

/** Each exported metric with the labels a query may use (its own, plus le and the scrape's). */
function exported(): Map<string, Set<string>> {
  const metrics = new DockgateMetrics({ processMetrics: false });
  const out = new Map<string, Set<string>>();
  for (const m of metrics.registry.getMetricsAsArray()) {
    const declared = (m as unknown as { labelNames: string[] }).labelNames;
    out.set((m as unknown as { name: string }).name, new Set(['le', 'instance', 'job', ...declared]));
  }
  return out;
}

describe('Grafana dashboard', () => {
  const exprs = [...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dashboard.annotations.list.map((a) => a.expr)];

  test('has the panels an operator looks at', () => {
    const titles = dashboard.panels.map((p) => p.title).join('\n');
    for (const wanted of [/Denials by rule/, /Denials by identity/, /Would-be denials/, /Decision latency/, /hijacked streams/i, /Policy reloads/]) {
      expect(titles).toMatch(wanted);
    }
    for (const p of dashboard.panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
  });

  test('queries only exported metrics, by labels they have', () => {
    const known = exported();
    expect(exprs.length).toBeGreaterThan(10);
    for (const expr of exprs) {
      for (const m of expr.matchAll(/\b(dockgate_[a-z_]+?)(_bucket|_count|_sum)?\b(\{[^}]*\})?/g)) {
        const name = m[1]!;
        expect(known.has(name), `${name} in: ${expr}`).toBe(true);
        for (const l of (m[3] ?? '').matchAll(/(\w+)\s*(=~|!=|!~|=)/g)) {
          expect(known.get(name)!.has(l[1]!), `label ${l[1]} of ${name} in: ${expr}`).toBe(true);
        }
      }
      for (const by of expr.matchAll(/by \(([^)]*)\)/g)) {
        const metric = /\b(dockgate_[a-z_]+?)(?:_bucket|_count|_sum)?\b/.exec(expr)![1]!;
        for (const l of by[1]!.split(',').map((x) => x.trim())) expect(known.get(metric)!.has(l), `by (${l}) of ${metric} in: ${expr}`).toBe(true);
      }
    }
  });
});
