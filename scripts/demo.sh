#!/usr/bin/env bash
# `make demo`: start the built-in target (with stalls, so the open model has something to
# show), load it in the closed and then the open model, run a journey from examples/, print
# the summaries and write results to out/. Everything stops by itself.
set -euo pipefail
LOADCELL=${1:-build/loadcell}
OUT=out
mkdir -p "$OUT"

"$LOADCELL" target --listen 127.0.0.1:0 --latency lognormal:2ms,0.5 --stall 500ms/5s >"$OUT/target.log" 2>&1 &
TARGET_PID=$!
trap 'kill $TARGET_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q 'listening on' "$OUT/target.log" 2>/dev/null && break
  sleep 0.05
done
URL=$(grep -o 'http://[^ ]*' "$OUT/target.log" | head -1)/
echo "== built-in target at $URL (lognormal 2ms latency, freezes 500ms every 5s)"
echo
echo "== closed model: 50 connections for 10s (each sends when the previous answer arrives)"
"$LOADCELL" quick "$URL" -c 50 -d 10s --summary-export "$OUT/closed-summary.json" --out "$OUT/closed.json"
echo
echo "== open model: 2000 req/s for 10s (latency from the intended send time: the stalls show)"
"$LOADCELL" quick "$URL" -R 2000 -c 1200 -d 10s --summary-export "$OUT/open-summary.json" --out "$OUT/open.json" \
  --hlog "$OUT/open.hlog"
echo
echo "== a test definition: examples/login-journey.yaml (log in, capture the token, use it) for 5s"
"$LOADCELL" run examples/login-journey.yaml -e "TARGET=${URL%/}" --duration 5s --summary-export "$OUT/journey-summary.json" \
  --out "$OUT/journey.json" --out "$OUT/journey.ndjson" --report "$OUT/journey-report.html" \
  || [ $? -eq 99 ]  # a failed threshold is a result, not a broken demo
"$LOADCELL" report "$OUT/journey.json" --junit "$OUT/journey-junit.xml" --markdown "$OUT/journey.md" --csv "$OUT/journey.csv"
echo
echo "== wrote $OUT/closed.json, $OUT/open.json (full results), *-summary.json (k6 layout), $OUT/open.hlog (HdrHistogram log)"
echo "== and the journey's results ($OUT/journey.json, .ndjson), its report $OUT/journey-report.html (open it in a"
echo "   browser: self-contained, works offline), JUnit, Markdown and CSV beside it"
