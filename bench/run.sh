#!/usr/bin/env bash
# Side-by-side benchmarks with wrk, h2load and pgbench (not part of `make test`): `make bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
for p in wrk nginx-light time nghttp2-client postgresql; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || {
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get install -y -qq "$p" >/dev/null
  }
done
exec python3 bench/run.py "${1:-build/loadcell}" "${@:2}"
