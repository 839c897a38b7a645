#!/usr/bin/env bash
# Runs the opa CLI pinned in tools/opa/go.mod, building it into .cache/bin/opa first when it is
# missing or older than the pin. Pinning through a Go tool module keeps every developer and CI on
# the exact compiler that produced the committed wasm bundles.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.cache/bin/opa"
pin="$root/tools/opa/go.sum"

stale() { [[ ! -x "$bin" || "$pin" -nt "$bin" || "$root/tools/opa/go.mod" -nt "$bin" ]]; }

if stale; then
  mkdir -p "$root/.cache/bin"
  # Concurrent npm scripts must not build twice or exec a half-written binary: build under a lock,
  # into a temp file, then rename.
  exec 9>"$root/.cache/bin/.opa.lock"
  flock 9
  if stale; then
    echo "opa.sh: building opa from tools/opa (first run takes a few minutes)..." >&2
    tmp="$bin.tmp.$$"
    (cd "$root/tools/opa" && go build -o "$tmp" github.com/open-policy-agent/opa)
    mv -f "$tmp" "$bin"
  fi
  flock -u 9
  exec 9>&-
fi

exec "$bin" "$@"
