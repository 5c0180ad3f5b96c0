"""capacity-search with known truth: the built-in target with 20 simulated workers and
exponential 20 ms service times serves at most 1000 req/s; the search finds that ceiling
within 10%, reports its steps in the summary export and passes."""
import json
import os
import subprocess
import tempfile
import unittest

from harness import LOADCELL, ROOT, Target, run_cli

TEST = """
name: capacity-test
target: ${TARGET}
scenarios:
  find:
    executor: capacity-search
    start_rate: 250
    max_rate: 8000
    step_duration: 3s
    pre_allocated_vus: 50
    max_vus: 2000
    flow:
      - request: { url: /health }
thresholds:
  http_req_duration: ["p(99)<300"]
  http_req_failed: ["rate<0.01"]
"""


FAILING = """
name: capacity-none
target: ${TARGET}
scenarios:
  find:
    executor: capacity-search
    start_rate: 8
    max_rate: 100
    step_duration: 1s
    pre_allocated_vus: 5
    flow:
      - request: { url: /status/503 }
thresholds:
  http_req_failed: ["rate<0.01"]
"""


class Capacity(unittest.TestCase):
    def test_a_target_that_fails_at_every_rate_has_no_capacity(self):
        """It used to bisect down to "max rate 0.2/s ... converged", passing steps that sent nothing."""
        d = tempfile.mkdtemp(prefix="loadcell-cap-")
        with open(f"{d}/t.yaml", "w") as f:
            f.write(FAILING)
        with Target() as t:
            p = subprocess.run([LOADCELL, "run", f"{d}/t.yaml", "-e", f"TARGET={t.url.rstrip('/')}", "-q",
                                "--summary-export", f"{d}/summary.json"], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 99, p.stdout + p.stderr)
        with open(f"{d}/summary.json") as f:
            cap = json.load(f)["capacity"]
        self.assertFalse(cap["found"])
        # min_rate defaults to start_rate / 16: 8, 4, 2, 1, 0.5 — every one failed, none "passed" on no data.
        self.assertEqual([s["rate"] for s in cap["steps"]], [8, 4, 2, 1, 0.5])
        self.assertFalse(any(s["passed"] for s in cap["steps"]))
        self.assertTrue(cap["why"].startswith("no passing rate found (failed at 0.5/s"), cap["why"])
        self.assertIn("no rate kept every threshold passing: no passing rate found", p.stdout)


    def test_finds_the_known_ceiling(self):
        d = tempfile.mkdtemp(prefix="loadcell-cap-")
        with open(f"{d}/t.yaml", "w") as f:
            f.write(TEST)
        with Target("--workers", "20", "--latency", "exp:20ms") as t:
            p = subprocess.run([LOADCELL, "run", f"{d}/t.yaml", "-e", f"TARGET={t.url.rstrip('/')}", "-q",
                                "--summary-export", f"{d}/summary.json", "--out", f"{d}/r.json"],
                               capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(f"{d}/summary.json") as f:
            cap = json.load(f)["capacity"]
        self.assertTrue(cap["found"])
        self.assertGreaterEqual(cap["max_rate"], 900, cap)
        self.assertLessEqual(cap["max_rate"], 1100, cap)
        rates = [s["rate"] for s in cap["steps"]]
        self.assertEqual(rates[:3], [250, 500, 1000])  # doubling while passing
        self.assertTrue(any(not s["passed"] for s in cap["steps"]))
        self.assertIn("converged", cap["why"])
        self.assertLess(cap["p99_ms"], 300)
        self.assertIn("capacity search", p.stdout)
        with open(f"{d}/r.json") as f:
            doc = json.load(f)
        self.assertEqual(doc["capacity"]["max_rate"], cap["max_rate"])
        # The steps' series is one continuous run.
        self.assertEqual([s["t"] for s in doc["series"]], list(range(1, len(doc["series"]) + 1)))
        self.assertEqual(sum(s["reqs"] for s in doc["series"]), doc["metrics"]["http_reqs"]["count"])
        self.assertFalse(any("dropped" in m for m in doc["messages"]), doc["messages"])
        p = run_cli("report", f"{d}/r.json", "--markdown", f"{d}/r.md")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(f"{d}/r.md") as f:
            self.assertIn("**Capacity**: ", f.read())

    def test_capacity_search_must_be_alone(self):
        d = tempfile.mkdtemp(prefix="loadcell-cap-")
        text = TEST.replace("scenarios:\n", "scenarios:\n  other:\n    executor: constant-vus\n    vus: 1\n"
                            "    duration: 1s\n    flow: [ { request: { url: / } } ]\n")
        with open(f"{d}/t.yaml", "w") as f:
            f.write(text)
        p = run_cli("run", f"{d}/t.yaml", "-e", "TARGET=http://127.0.0.1:1")
        self.assertEqual(p.returncode, 104, p.stderr)
        self.assertRegex(p.stderr, r"t\.yaml:\d+:\d+: scenarios\.\w+\.executor: capacity-search must be the test's only "
                                   r"scenario")
        # validate says so too (it said "valid").
        p = run_cli("validate", f"{d}/t.yaml", "-e", "TARGET=http://127.0.0.1:1")
        self.assertEqual(p.returncode, 104, p.stdout)
        self.assertIn("capacity-search must be the test's only scenario", p.stderr)


if __name__ == "__main__":
    unittest.main()
