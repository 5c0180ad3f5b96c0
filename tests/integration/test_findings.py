"""Bottleneck findings and Apdex on real runs: a target that refuses connections is
reported as a connection limit; a healthy run has no finding; Apdex of a fixed 50 ms
target is exactly 1 with T = 200 ms and exactly 0.5 with T = 20 ms (all tolerating)."""
import json
import os
import subprocess
import tempfile
import unittest

from harness import LOADCELL, Target, free_port

TEST = """
name: findings-test
target: ${TARGET}
scenarios:
  api:
    executor: constant-vus
    vus: 2
    duration: 2s
    flow:
      - request: { name: health, url: /health }
"""


def run(target_url, *args):
    d = tempfile.mkdtemp(prefix="loadcell-find-")
    with open(f"{d}/t.yaml", "w") as f:
        f.write(TEST)
    p = subprocess.run([LOADCELL, "run", f"{d}/t.yaml", "-e", f"TARGET={target_url}", "-q", "--out", f"{d}/r.json", *args],
                       capture_output=True, text=True, timeout=60)
    with open(f"{d}/r.json") as f:
        return p, json.load(f)


class Findings(unittest.TestCase):
    def test_refused_connections(self):
        p, doc = run(f"http://127.0.0.1:{free_port()}")
        rules = [f["rule"] for f in doc["findings"]]
        self.assertEqual(rules, ["connections"], doc["findings"])
        self.assertIn("could not connect", doc["findings"][0]["text"])
        self.assertIn("[connections] connection limits", p.stdout)

    def test_healthy_run_is_silent_and_apdex_is_exact(self):
        with Target("--latency", "fixed:50ms") as t:
            _, doc = run(t.url.rstrip("/"), "--apdex-t", "200ms")
            self.assertEqual(doc["findings"], [])
            a = doc["apdex"]
            self.assertEqual(a["t_ms"], 200)
            self.assertEqual(a["by_name"]["health"]["score"], 1.0)
            reqs = doc["metrics"]["http_reqs"]["count"]
            self.assertEqual(a["by_name"]["health"]["satisfied"], reqs)
            _, doc = run(t.url.rstrip("/"), "--apdex-t", "20ms")
            a = doc["apdex"]["by_name"]["health"]
            self.assertEqual(a["score"], 0.5)
            self.assertEqual(a["tolerating"], doc["metrics"]["http_reqs"]["count"])
            self.assertEqual(a["frustrated"], 0)


if __name__ == "__main__":
    unittest.main()
