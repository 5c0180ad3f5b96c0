"""Reaction and recovery for a load change that is not an injected fault: a spike against
the built-in target with 2 workers of 10 ms each (capacity 200/s; above it requests queue,
so latency rises with load), and a service whose /metrics `replicas` gauge steps from 1 to
3 ten seconds after the spike begins (as an autoscaler would):
- the spike is found in the stages (from its rise to the end of its fall);
- its recovery — until p99 is back within its pre-spike band — is within 1 s of the truth,
  the moment the queue the spike built has drained (a fluid model of the arrivals);
- the gauge is reported as reacting 10 s (± 1 s) after the spike began."""
import http.server
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest

from harness import LOADCELL, Target

HOLD = 4.25  # seconds at the spike's peak: the queue drains at 20.75 s, mid-second


def drained_at(base=100.0, peak=300.0, capacity=200.0, hold=HOLD, step=0.001):
    """When the fluid queue of the stages below is empty again after the spike."""
    def rate(t):
        if t < 10:
            return base
        if t < 11:
            return base + (peak - base) * (t - 10)
        if t < 11 + hold:
            return peak
        if t < 12 + hold:
            return peak - (peak - base) * (t - 11 - hold)
        return base
    queue, t = 0.0, 0.0
    while t < 60:
        queue = max(0.0, queue + (rate(t) - capacity) * step)
        t += step
        if t > 12 + hold and queue == 0:
            return t
    raise AssertionError("the queue never drains")


class Replicas:
    """/metrics with `replicas`: 1, then 3 from `after` seconds past its first scrape."""

    def __init__(self, after):
        outer = self
        self.first = None

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                now = time.monotonic()
                if outer.first is None:
                    outer.first = now
                value = 3 if now - outer.first >= after else 1
                body = f"# TYPE replicas gauge\nreplicas {value}\n".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/metrics"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Spike(unittest.TestCase):
    def test_recovery_and_reaction_after_a_spike(self):
        replicas = Replicas(after=20)  # the spike begins 10 s into the run: it reacts 10 s later
        try:
            with Target("--threads", "1", "--workers", "2", "--latency", "fixed:10ms") as target:
                with tempfile.TemporaryDirectory() as d:
                    with open(f"{d}/t.yaml", "w") as f:
                        f.write(f"""\
name: spike
target: {target.url.rstrip('/')}
monitor:
  scrape: {{ url: "{replicas.url}" }}
  reactions: [monitor_replicas]
scenarios:
  spiky:
    executor: ramping-arrival-rate
    start_rate: 100
    pre_allocated_vus: 200
    max_vus: 1500
    stages:
      - {{ duration: 10s, target: 100 }}
      - {{ duration: 1s, target: 300 }}
      - {{ duration: {int(HOLD * 1000)}ms, target: 300 }}
      - {{ duration: 1s, target: 100 }}
      - {{ duration: 14s, target: 100 }}
    flow:
      - request: {{ url: /health }}
""")
                    p = subprocess.run([LOADCELL, "run", f"{d}/t.yaml", "-q", "--out", f"{d}/r.json"],
                                       capture_output=True, text=True, timeout=120)
                    self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                    with open(f"{d}/r.json") as f:
                        doc = json.load(f)
        finally:
            replicas.stop()
        changes = doc["load_changes"]
        self.assertEqual(len(changes), 1, changes)
        c = changes[0]
        self.assertEqual((c["kind"], c["scenario"], c["at_s"], c["from"], c["to"]), ("spike", "spiky", 10, 100, 300))
        self.assertAlmostEqual(c["end_s"], 12 + HOLD)
        truth = drained_at() - c["end_s"]
        self.assertIsNotNone(c["recovery_s"], c)
        self.assertLessEqual(abs(c["recovery_s"] - truth), 1.0, (c, truth))
        self.assertGreater(c["worst_p99_ms"], 500)  # the queue was real
        reaction = c["reactions"][0]
        self.assertEqual((reaction["gauge"], reaction["before"], reaction["after"]), ("monitor_replicas", 1, 3))
        self.assertLessEqual(abs(reaction["reaction_s"] - 10), 1.0, reaction)
        self.assertRegex(p.stdout, r"spike +10\.0s +16\.2s +100 -> 300 .* \d+s  spiky")
        self.assertRegex(p.stdout, r"monitor_replicas reacted (9|10|11)s after it \(1 -> 3\)")


if __name__ == "__main__":
    unittest.main()
