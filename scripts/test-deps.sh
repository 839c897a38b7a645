#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (Debian 12 "bookworm"; run as root).
# Used by .ci/run; developers run it once. Already-installed packages are not fetched again.
#
#   scripts/test-deps.sh           install what is missing
#   scripts/test-deps.sh --print   print the package list, one per line
set -euo pipefail

packages=(
  docker.io        # dockerd 20.10 + containerd + runc: the private daemon the engine tests start,
                   # and a docker CLI when /usr/local/bin/docker (28.x) is absent
  busybox-static   # /bin/busybox, statically linked: the whole test image (imported, never pulled)
  docker-compose   # docker-compose 1.29 (Python): the compose client tests
  python3-docker   # docker-py 5.0 for /usr/bin/python3: the Python SDK client tests
  iproute2         # ss: counts dockgate's connections to the daemon (leak tests)
  bsdutils         # script(1): pseudo-terminal for `docker run -t` / `exec -it` tests
  tar              # builds the test image's rootfs archive
  ca-certificates  # npm and the Go module proxy over HTTPS
  systemd          # systemd-analyze: verifies deploy/systemd/dockgate.service (nothing is started)
)

if [[ "${1:-}" == "--print" ]]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "test-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

if ((EUID != 0)); then
  echo "test-deps: missing ${missing[*]}; run as root (or: sudo $0)" >&2
  exit 1
fi

echo "test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
