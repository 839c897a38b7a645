#!/usr/bin/env bash
# Builds the wasm policy bundles listed in policy/bundles.txt into policy/dist/<name>.tar.gz.
# Used by `npm run policy:build` and CI.
#
#   scripts/build-policy.sh [--check] [name...]
#
# Every bundle is compiled against policy/capabilities.json, so a builtin opa-wasm cannot run
# fails here rather than at request time. Tests (*_test.rego) stay out of the bundle. The
# manifest revision is a hash of the sources, the capabilities and the opa version, so an
# unchanged policy rebuilds byte-for-byte; --check rebuilds into a temp dir and fails when a
# committed bundle differs from its sources.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
opa="$root/scripts/opa.sh"
caps="$root/policy/capabilities.json"
list="$root/policy/bundles.txt"

check=false
if [[ "${1:-}" == "--check" ]]; then check=true; shift; fi
wanted=("$@")

out="$root/policy/dist"
if $check; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

# sed (not head) reads all of opa's output: head exiting early would SIGPIPE opa, and with
# pipefail the script would die with status 141.
opa_version="$("$opa" version | sed -n 1p)"
failed=0
built=0

while read -r name src entrypoints; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  if ((${#wanted[@]} > 0)) && [[ " ${wanted[*]} " != *" $name "* ]]; then continue; fi
  [[ -n "${entrypoints:-}" ]] || { echo "build-policy: $name: no entrypoint in $list" >&2; exit 2; }
  # <src> is one directory under policy/, or several joined by '+' (e.g. lib+profiles: Rego and
  # the profiles' data); several roots are built from policy/ itself.
  IFS='+' read -r -a roots <<<"$src"
  for r in "${roots[@]}"; do
    [[ -d "$root/policy/$r" ]] || { echo "build-policy: $name: no directory policy/$r" >&2; exit 2; }
  done
  if ((${#roots[@]} == 1)); then dir="$root/policy/$src"; args=(.); else dir="$root/policy"; args=("${roots[@]}"); fi

  # Revision = content hash, so the manifest names exactly what was compiled.
  hash="$(
    cd "$dir"
    { find "${args[@]}" -type f ! -name '*_test.rego' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
      sha256sum "$caps" | cut -d' ' -f1
      echo "$opa_version"; } | sha256sum | cut -c1-16
  )"
  revision="${POLICY_REVISION:-$name-$hash}"

  eflags=()
  for e in $entrypoints; do eflags+=(-e "$e"); done

  # Build from inside the source dir: the bundle then names its files relative to it, not by this
  # checkout's absolute path (which would also make rebuilds differ between machines).
  (cd "$dir" && "$opa" build -t wasm "${eflags[@]}" \
    --capabilities "$caps" \
    --ignore '*_test.rego' \
    --revision "$revision" \
    -o "$out/$name.tar.gz" \
    "${args[@]}")
  built=$((built + 1))

  if $check; then
    if ! cmp -s "$out/$name.tar.gz" "$root/policy/dist/$name.tar.gz"; then
      echo "build-policy: policy/dist/$name.tar.gz is out of date (run npm run policy:build)" >&2
      failed=1
    fi
  else
    echo "built policy/dist/$name.tar.gz (revision $revision; entrypoints: $entrypoints)"
  fi
done <"$list"

if ((${#wanted[@]} > 0 && built != ${#wanted[@]})); then
  echo "build-policy: unknown bundle name in: ${wanted[*]} (see policy/bundles.txt)" >&2
  exit 2
fi
if $check && ((failed == 0)); then echo "policy/dist is up to date ($built bundles)"; fi
exit "$failed"
