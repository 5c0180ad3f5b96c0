#!/usr/bin/env bash
# Installs what `make demo` and `make test` need on a fresh Debian 12 machine, and nothing
# when it is all there already. Debian packages only (plus npm for the test-only JS decoder).
set -euo pipefail

pkgs=(cmake ninja-build g++ clang make pkg-config
      libssl-dev zlib1g-dev libcli11-dev libfmt-dev nlohmann-json3-dev
      libgtest-dev libgmock-dev libbenchmark-dev
      nginx-light openssl python3 nodejs npm procps)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the packaged nginx on port 80; the tests run their own instances.
  if [[ " ${missing[*]} " == *" nginx-light "* ]]; then
    $SUDO systemctl stop nginx 2>/dev/null || $SUDO service nginx stop 2>/dev/null || true
  fi
fi
