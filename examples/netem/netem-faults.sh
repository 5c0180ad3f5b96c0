#!/usr/bin/env bash
# Network-level faults with tc netem, in a network namespace this script creates (root and
# `ip netns` needed). The built-in target runs inside the namespace behind a veth pair;
# loadcell loads it from outside, first on a clean link, then with netem adding delay and
# loss, so the summary shows what the network did. Everything is removed at the end.
#
#   sudo examples/netem/netem-faults.sh [path/to/loadcell] [DURATION]
#
# loadcell's own `faults:` need none of this (they act inside loadcell); netem is for
# faults below TCP: packet loss and retransmissions, reordering, a slow link.
set -euo pipefail
LOADCELL=${1:-build/loadcell}
DURATION=${2:-5s}
NS=loadcell-netem-$$
HOST_IF=lcn$$a
NS_IF=lcn$$b
[ "$(id -u)" -eq 0 ] || { echo "netem-faults.sh: needs root (ip netns, tc)" >&2; exit 1; }

cleanup() {
  [ -n "${TARGET_PID:-}" ] && kill "$TARGET_PID" 2>/dev/null || true
  ip link del "$HOST_IF" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$NS"
ip link add "$HOST_IF" type veth peer name "$NS_IF"
ip link set "$NS_IF" netns "$NS"
ip addr add 10.203.0.1/30 dev "$HOST_IF"
ip link set "$HOST_IF" up
ip netns exec "$NS" ip addr add 10.203.0.2/30 dev "$NS_IF"
ip netns exec "$NS" ip link set "$NS_IF" up
ip netns exec "$NS" ip link set lo up

ip netns exec "$NS" "$LOADCELL" target --listen 10.203.0.2:8080 --latency fixed:1ms > /dev/null &
TARGET_PID=$!
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/10.203.0.2/8080) 2>/dev/null && break
  sleep 0.1
done

load() {  # label, then loadcell quick's summary lines that matter
  echo "== $1"
  "$LOADCELL" quick http://10.203.0.2:8080/health -c 10 -d "$DURATION" --timeout 2s -q --summary-export "/tmp/$NS-$2.json" |
    grep -E "requests|latency|p50|p99|errors|timeout" || true
}

load "clean link" clean
# 50 ms on the way back (the namespace's side delays what it sends), 2% of packets lost.
if ! ip netns exec "$NS" tc qdisc add dev "$NS_IF" root netem delay 50ms 5ms loss 2% 2>/dev/null; then
  echo "netem-faults.sh: this kernel has no netem qdisc (module sch_netem): network-level faults cannot run" \
       "here; loadcell's own faults: (docs/test-definition.md) and loadcell proxy need no kernel support" >&2
  exit 3
fi
load "netem: delay 50ms ± 5ms, loss 2%" netem
ip netns exec "$NS" tc qdisc del dev "$NS_IF" root
load "netem removed" after

python3 - "$NS" <<'PY'
import json, sys
ns = sys.argv[1]
med = {k: json.load(open(f"/tmp/{ns}-{k}.json"))["metrics"]["http_req_duration"]["med"] for k in ("clean", "netem", "after")}
print(f"median: clean {med['clean']:.2f} ms, with netem {med['netem']:.2f} ms, after {med['after']:.2f} ms")
PY
rm -f "/tmp/$NS-"*.json
