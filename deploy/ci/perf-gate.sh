#!/usr/bin/env bash
# The performance regression gate, as the CI jobs beside this file run it:
#   perf-gate.sh TEST.yaml BASELINE.json OUTDIR
# Runs the test against $TARGET, writes results, the HTML report, JUnit and Markdown into
# OUTDIR, compares with BASELINE.json when it exists, and leaves OUTDIR/comment.md for the
# pull/merge request. Exit: the run's code when it failed (99: a threshold failed), else
# the comparison's (99: a significant regression beyond $MAX_REGRESSION, default 10%).
set -uo pipefail
LOADCELL=${LOADCELL:-loadcell}
test_file=$1
baseline=$2
out=${3:-perf}
: "${TARGET:?set TARGET to the base URL of the system under test}"
mkdir -p "$out"

"$LOADCELL" run "$test_file" -e "TARGET=$TARGET" -q --out "$out/results.json" --report "$out/report.html" \
  --summary-export "$out/summary.json"
run=$?
"$LOADCELL" report "$out/results.json" --junit "$out/junit.xml" --markdown "$out/summary.md" || exit 1

compare=0
if [ -f "$baseline" ]; then
  "$LOADCELL" compare "$baseline" "$out/results.json" --max-regression "${MAX_REGRESSION:-10%}" \
    --markdown "$out/compare.md" --json "$out/compare.json"
  compare=$?
else
  echo "No baseline yet ($baseline): this run's results become it once merged." > "$out/compare.md"
fi
cat "$out/summary.md" "$out/compare.md" > "$out/comment.md"

if [ "$run" -ne 0 ]; then exit "$run"; fi
exit "$compare"
