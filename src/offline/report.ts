// How `dockgate eval` prints what it judged: JSON for programs, a short summary for people.
import type { JudgedRequest, Outcome } from './judge.js';

export type OutputFormat = 'json' | 'text';

/** Exit status of eval: 0 everything allowed, 1 something denied, 2 something could not be judged. */
export function exitCodeOf(outcomes: readonly Outcome[]): number {
  if (outcomes.includes('error')) return 2;
  if (outcomes.includes('deny')) return 1;
  return 0;
}

export function overallOutcome(outcomes: readonly Outcome[]): Outcome {
  return (['error', 'deny', 'allow'] as const)[[2, 1, 0].indexOf(exitCodeOf(outcomes))]!;
}

const LABEL: Record<Outcome, string> = { allow: 'ALLOW', deny: 'DENY ', error: 'ERROR' };

export function describeRequest(r: JudgedRequest): string {
  const lines: string[] = [];
  const route = r.kind !== undefined ? `  (${r.kind} ${r.operation}${r.target !== undefined ? ` ${r.target}` : ''})` : '';
  lines.push(`${LABEL[r.outcome]} ${r.method} ${r.path}${route}${r.status !== undefined ? `  → ${r.status}` : ''}`);
  if (r.message !== undefined) lines.push(`  ${r.message}`);
  for (const v of r.violations) lines.push(`  violation ${v.rule} [${v.action}]: ${v.message}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  for (const op of r.patch) lines.push(`  patch: ${op.op} ${op.path}${'value' in op ? ` ${JSON.stringify(op.value)}` : ''}`);
  return lines.join('\n');
}

// Requests a person wants to see: anything not plainly allowed, and everything with a body or a
// change. Plain reads (_ping, inspects, lists) that were allowed are only counted.
export function isNoteworthy(r: JudgedRequest): boolean {
  return r.outcome !== 'allow' || r.object !== undefined || r.violations.length > 0 || r.warnings.length > 0 || !['GET', 'HEAD'].includes(r.method);
}
