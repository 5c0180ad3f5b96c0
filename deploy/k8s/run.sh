#!/usr/bin/env bash
# Runs a distributed test on the current kubectl context and copies the merged result here:
#   deploy/k8s/run.sh [NAMESPACE]
# The generators run (job.yaml), then the merge (merge-job.yaml); a helper pod that mounts
# the results volume copies merged.json, summary.json and report.html out. Exit code: the
# merge's (0 passed, 99 a threshold failed).
set -euo pipefail
ns=${1:-default}
here=$(cd "$(dirname "$0")" && pwd)
k() { kubectl -n "$ns" "$@"; }

k delete job loadcell-generators loadcell-merge --ignore-not-found
k apply -k "$here"
# Generous: the test's duration plus start-up. A failed generator fails the Job at once.
k wait --for=condition=complete job/loadcell-generators --timeout=2h &
k wait --for=condition=failed job/loadcell-generators --timeout=2h && { echo "a generator failed"; exit 1; } &
wait -n
kill $(jobs -p) 2>/dev/null || true
k apply -f "$here/merge-job.yaml"
k wait --for=condition=complete job/loadcell-merge --timeout=10m || true
k logs job/loadcell-merge
k run loadcell-copy --restart=Never --image=busybox --overrides='{"spec":{"volumes":[{"name":"r","persistentVolumeClaim":{"claimName":"loadcell-results"}}],"containers":[{"name":"c","image":"busybox","command":["sleep","300"],"volumeMounts":[{"name":"r","mountPath":"/results"}]}]}}'
k wait --for=condition=ready pod/loadcell-copy --timeout=2m
for f in merged.json summary.json report.html; do k cp "loadcell-copy:/results/$f" "$f"; done
k delete pod loadcell-copy --wait=false
code=$(k get pod -l job-name=loadcell-merge -o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.exitCode}')
echo "merged result: merged.json, report.html (exit $code)"
exit "$code"
