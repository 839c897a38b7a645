#!/usr/bin/env bash
# Runs the opa unit tests (the same set as `npm run policy:test`) with coverage and fails when the
# library's line coverage is below the threshold (issue 4: >= 90%). Only policy/lib counts: the
# test files themselves are always fully "covered" and would inflate opa's overall number.
# Usage: scripts/policy-coverage.sh [MIN_PERCENT]   (default 90, or $POLICY_COVERAGE_MIN)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
min="${1:-${POLICY_COVERAGE_MIN:-90}}"
report="$(mktemp)"
trap 'rm -f "$report"' EXIT

# A failing test makes opa print the failures (not JSON) and exit non-zero.
if ! scripts/opa.sh test --coverage policy/lib policy/profiles policy/lib-tests policy/test >"$report"; then
  cat "$report" >&2
  echo "policy-coverage: opa tests failed" >&2
  exit 1
fi

node_modules/.bin/node - "$report" "$min" <<'JS'
const fs = require('node:fs');
const [report, min] = process.argv.slice(2);
const files = JSON.parse(fs.readFileSync(report, 'utf8')).files;
let covered = 0, missed = 0;
const rows = [];
for (const [file, f] of Object.entries(files)) {
  if (!file.startsWith('policy/lib/')) continue;
  const c = f.covered_lines ?? 0, m = f.not_covered_lines ?? 0;
  covered += c; missed += m;
  if (m > 0) rows.push(`  ${file}: ${((100 * c) / (c + m)).toFixed(1)}% (${m} lines not covered)`);
}
const pct = (100 * covered) / (covered + missed);
console.log(`policy/lib coverage: ${pct.toFixed(2)}% of ${covered + missed} lines (minimum ${min}%)`);
if (rows.length) console.log(rows.join('\n'));
if (!(pct >= Number(min))) {
  console.error(`policy-coverage: ${pct.toFixed(2)}% is below ${min}%: add opa tests in policy/lib-tests`);
  process.exit(1);
}
JS
