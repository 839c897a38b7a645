// What a benchmark section hands to the report: figures measured round by round, the ratios
// between peers computed within each round (interleaved runs, so both sides of a ratio saw the
// same machine state), and target checks.
import { spread, type Spread } from './stats.js';

export interface TargetCheck {
  goal: string;
  /** The measured value the goal is judged on, formatted. */
  measured: string;
  /** null: reported for context, not a target. */
  pass: boolean | null;
}

export interface Figure {
  metric: string;
  unit: string;
  /** Per column (peer), the spread of the per-round values. */
  values: Record<string, Spread>;
  /** e.g. "dockgate / HAProxy": spread of the per-round ratios. */
  ratios: Record<string, Spread>;
  targets: TargetCheck[];
}

export interface Section {
  id: string;
  title: string;
  /** What was measured and how, in a sentence or two. */
  method: string;
  columns: string[];
  figures: Figure[];
  /** Extra markdown (tables that do not fit the peer-column layout). */
  extra: string[];
  notes: string[];
}

export function newSection(id: string, title: string, method: string, columns: string[]): Section {
  return { id, title, method, columns, figures: [], extra: [], notes: [] };
}

/** A ratio definition: numerator column, denominator column. */
export type RatioDef = readonly [string, string];

/**
 * A figure from per-round values (`perRound[column][round]`). Ratios are taken round by round,
 * then summarized; a column missing a round gives NaN for that round's ratio (left out).
 */
export function roundsFigure(metric: string, unit: string, perRound: Record<string, number[]>, ratioDefs: readonly RatioDef[] = []): Figure {
  const values: Record<string, Spread> = {};
  for (const [col, v] of Object.entries(perRound)) values[col] = spread(v);
  const ratios: Record<string, Spread> = {};
  for (const [num, den] of ratioDefs) {
    const a = perRound[num];
    const b = perRound[den];
    if (!a || !b) continue;
    const r = a.map((x, i) => x / b[i]!);
    ratios[`${num} / ${den}`] = spread(r);
  }
  return { metric, unit, values, ratios, targets: [] };
}

/** Formats a number with sensible precision for its size. */
export function fmt(v: number, unit = ''): string {
  if (!Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  const s = Number.isInteger(v) && a < 1e6 ? String(v) : a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(1) : a >= 10 ? v.toFixed(2) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
  return unit ? `${s} ${unit}` : s;
}

/** fmt() with its sign always written: a difference ("+1.69 ms", "-0.027 ms"). */
export function fmtSigned(v: number, unit = ''): string {
  return v >= 0 ? `+${fmt(v, unit)}` : fmt(v, unit);
}

/** MiB (what /proc reports, in KiB) to MB as the targets state them (10^6 bytes). */
export function mibToMB(mib: number): number {
  return (mib * 1024 * 1024) / 1e6;
}

/** A memory figure in both units: "78.20 MiB (82.00 MB)". */
export function fmtMemory(mib: number): string {
  return `${fmt(mib, 'MiB')} (${fmt(mibToMB(mib), 'MB')})`;
}

export function fmtRatio(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(2)}×` : 'n/a';
}

/** Goal "value ≤ limit", judged on the median over rounds. */
export function atMost(goal: string, value: number, limit: number, shown: string): TargetCheck {
  return { goal, measured: shown, pass: Number.isFinite(value) && value <= limit };
}

export function atLeast(goal: string, value: number, limit: number, shown: string): TargetCheck {
  return { goal, measured: shown, pass: Number.isFinite(value) && value >= limit };
}

export function isTrue(goal: string, ok: boolean, shown: string): TargetCheck {
  return { goal, measured: shown, pass: ok };
}

/** A figure worth a line in the targets column without being a target. */
export function info(what: string, shown: string): TargetCheck {
  return { goal: what, measured: shown, pass: null };
}
