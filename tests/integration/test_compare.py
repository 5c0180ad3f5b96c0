"""`loadcell compare`: A/A runs against the same target pass; a 30% slower build (the
target's --slowdown) fails with exit 99, with its p95 change measured near +30%."""
import json
import os
import subprocess
import tempfile
import unittest

from harness import LOADCELL, Target, run_cli

TEST = """
name: compare-test
target: ${TARGET}
scenarios:
  api:
    executor: constant-arrival-rate
    rate: 50
    duration: 10s
    pre_allocated_vus: 20
    max_vus: 100
    flow:
      - request: { name: health, url: /health }
      - request: { name: login, method: POST, url: /auth/login, json: { user: "u{{ vu }}", password: "pw" } }
"""


def run(target, out):
    d = os.path.dirname(out)
    path = os.path.join(d, "test.yaml")
    with open(path, "w") as f:
        f.write(TEST)
    p = subprocess.run([LOADCELL, "run", path, "-e", f"TARGET={target.url.rstrip('/')}", "-q", "--out", out],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr


class Compare(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="loadcell-compare-")
        with Target("--latency", "normal:20ms,1ms") as t:
            run(t, f"{cls.d}/a1.json")
            run(t, f"{cls.d}/a2.ndjson")
        with Target("--latency", "normal:20ms,1ms", "--slowdown", "1.3") as t:
            run(t, f"{cls.d}/slow.json")

    def test_a_a_is_not_flagged(self):
        p = run_cli("compare", f"{self.d}/a1.json", f"{self.d}/a2.ndjson", "--json", f"{self.d}/aa.json")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("no significant regression", p.stdout)
        with open(f"{self.d}/aa.json") as f:
            doc = json.load(f)
        self.assertFalse(doc["regressed"])
        self.assertEqual({r["request"] for r in doc["rows"]}, {"", "health", "login"})
        self.assertNotIn("worse", {r["verdict"] for r in doc["rows"]})

    def test_thirty_percent_slowdown_fails(self):
        p = run_cli("compare", f"{self.d}/a1.json", f"{self.d}/slow.json", "--markdown", f"{self.d}/c.md", "--json",
                    f"{self.d}/c.json")
        self.assertEqual(p.returncode, 99, p.stdout + p.stderr)
        self.assertIn("REGRESSION", p.stdout)
        with open(f"{self.d}/c.json") as f:
            doc = json.load(f)
        rows = {(r["request"], r["metric"]): r for r in doc["rows"]}
        # The median moves by the slowdown whatever the machine does; tails may be noisier.
        for req in ("", "health", "login"):
            r = rows[(req, "p50")]
            self.assertEqual(r["verdict"], "worse", r)
            self.assertGreater(r["change"], 0.2, r)
            self.assertLess(r["change"], 0.4, r)
            self.assertGreater(r["ci"][0], 1.1, r)
            self.assertLess(r["p_value"], 0.01, r)
            self.assertIn(rows[(req, "p95")]["verdict"], ("worse", "same"))
        # Throughput is fixed by the arrival rate, and nothing failed.
        self.assertEqual(rows[("", "rate")]["verdict"], "same")
        self.assertEqual(rows[("", "error_rate")]["verdict"], "same")
        with open(f"{self.d}/c.md") as f:
            md = f.read()
        self.assertTrue(md.startswith("### ❌ loadcell compare: regression"))
        # The same slowdown allowed: nothing fails.
        p = run_cli("compare", f"{self.d}/a1.json", f"{self.d}/slow.json", "--max-regression", "60%")
        self.assertEqual(p.returncode, 0, p.stdout)

    def test_errors(self):
        p = run_cli("compare", f"{self.d}/a1.json", f"{self.d}/missing.json")
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot read", p.stderr)
        p = run_cli("compare", f"{self.d}/a1.json", f"{self.d}/a1.json", "--max-regression", "lots")
        self.assertEqual(p.returncode, 104)
        self.assertIn("--max-regression", p.stderr)


if __name__ == "__main__":
    unittest.main()
