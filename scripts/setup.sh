#!/usr/bin/env bash
# Installs what `make demo` and `make test` need on a fresh Debian 12 machine, and nothing
# when it is all there already. Debian packages only (npm is used by the tests alone, for
# the independent HdrHistogram decoder).
set -euo pipefail

# package:command — a package counts as present when its command is on PATH (node and npm
# may come from elsewhere than Debian) or dpkg has it installed.
needs=(cmake:cmake ninja-build:ninja g++:g++ clang:clang++ make:make pkg-config:pkg-config
       libssl-dev: zlib1g-dev: libcli11-dev: libfmt-dev: nlohmann-json3-dev: libyaml-cpp-dev:
       libgtest-dev: libgmock-dev: libbenchmark-dev: libmicrohttpd-dev: libsqlite3-dev:
       nginx-light:nginx openssl:openssl python3:python3 nodejs:node npm:npm procps:ps
       chromium:chromium prometheus:prometheus python3-websockets: libnghttp2-dev: nghttp2-client:h2load
       libpq-dev: postgresql: python3-yaml: python3-h2: jq:jq curl:curl clang-format:clang-format
       libcurl4-openssl-dev: liblua5.4-dev: prometheus-node-exporter:prometheus-node-exporter
       prometheus-postgres-exporter:prometheus-postgres-exporter prometheus-alertmanager:prometheus-alertmanager)

missing=()
for entry in "${needs[@]}"; do
  pkg=${entry%%:*}
  cmd=${entry#*:}
  if [ -n "$cmd" ] && { command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ]; }; then continue; fi
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' && continue
  missing+=("$pkg")
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
  # Likewise PostgreSQL's packaged cluster on :5432: the tests run their own (initdb in a temp dir).
  if [[ " ${missing[*]} " == *" postgresql "* ]]; then
    $SUDO systemctl stop postgresql 2>/dev/null || $SUDO service postgresql stop 2>/dev/null || true
  fi
  # Likewise Prometheus on :9090: the tests start their own, scraping loadcell.
  if [[ " ${missing[*]} " == *" prometheus "* ]]; then
    $SUDO systemctl stop prometheus 2>/dev/null || $SUDO service prometheus stop 2>/dev/null || true
  fi
  # And the exporters and Alertmanager the monitor tests start on ports of their own.
  for svc in prometheus-node-exporter prometheus-postgres-exporter prometheus-alertmanager; do
    if [[ " ${missing[*]} " == *" $svc "* ]]; then
      $SUDO systemctl stop "$svc" 2>/dev/null || $SUDO service "$svc" stop 2>/dev/null || true
    fi
  done
fi
