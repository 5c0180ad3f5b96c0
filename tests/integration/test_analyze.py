"""`loadcell analyze usl`: the published SPEC SDM91 sweep gives the usl package's values."""
import json
import os
import subprocess
import tempfile
import unittest

from harness import LOADCELL, Target, run_cli

SWEEP = """
name: usl-sweep
target: ${TARGET}
scenarios:
  steps:
    executor: ramping-vus
    start_vus: 1
    stages:
      - { duration: 3s, target: 1 }
      - { duration: 1s, target: 2 }
      - { duration: 3s, target: 2 }
      - { duration: 1s, target: 4 }
      - { duration: 3s, target: 4 }
      - { duration: 1s, target: 8 }
      - { duration: 3s, target: 8 }
      - { duration: 1s, target: 16 }
      - { duration: 3s, target: 16 }
    graceful_ramp_down: 1s
    flow:
      - request: { url: /health }
"""


class AnalyzeUsl(unittest.TestCase):
    def test_specsdm91(self):
        d = tempfile.mkdtemp(prefix="loadcell-usl-")
        with open(f"{d}/sweep.csv", "w") as f:
            f.write("concurrency,throughput\n1,64.9\n18,995.9\n36,1652.4\n72,1853.2\n108,1828.9\n144,1775.0\n216,1702.2\n")
        p = run_cli("analyze", "usl", f"{d}/sweep.csv", "--json", f"{d}/fit.json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("σ (contention) = 0.0277", p.stdout)
        self.assertIn("κ (coherency)  = 0.000104", p.stdout)
        self.assertIn("beyond the fit's maximum", p.stdout)
        with open(f"{d}/fit.json") as f:
            fit = json.load(f)
        self.assertAlmostEqual(fit["sigma"], 0.0277, delta=0.0001)
        self.assertAlmostEqual(fit["kappa"], 0.000104, delta=0.000001)
        self.assertEqual(round(fit["n_star"]), 97)
        lo, hi = fit["ci95"]["n_star"]
        self.assertLess(lo, fit["n_star"])
        self.assertGreater(hi, fit["n_star"])
        self.assertEqual(len(fit["points"]), 7)

    def test_run_usl_reads_a_stepped_run(self):
        # 8 workers of 10 ms: throughput N/10ms up to 800/s; Little's law holds at each step.
        d = tempfile.mkdtemp(prefix="loadcell-usl-")
        with open(f"{d}/t.yaml", "w") as f:
            f.write(SWEEP)
        with Target("--workers", "8", "--latency", "exp:10ms") as t:
            p = subprocess.run([LOADCELL, "run", f"{d}/t.yaml", "-e", f"TARGET={t.url.rstrip('/')}", "-q", "--usl",
                                "--out", f"{d}/r.json"], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("scalability (--usl)", p.stdout)
        with open(f"{d}/r.json") as f:
            usl = json.load(f)["usl"]
        steps = usl["steps"]
        self.assertEqual([s["vus"] for s in steps], [1, 2, 4, 8, 16])
        self.assertTrue(all(s["littles_ok"] for s in steps), steps)
        for s in steps:
            self.assertAlmostEqual(s["littles_n"], s["vus"], delta=0.1 * s["vus"])
        self.assertAlmostEqual(steps[-1]["throughput"], 800, delta=120)
        self.assertLess(steps[0]["throughput"], 160)
        self.assertIsNotNone(usl["fit"])
        self.assertGreater(usl["fit"]["r_squared"], 0.9)

    def test_errors(self):
        d = tempfile.mkdtemp(prefix="loadcell-usl-")
        with open(f"{d}/bad.csv", "w") as f:
            f.write("1,10\n2,twenty\n")
        p = run_cli("analyze", "usl", f"{d}/bad.csv")
        self.assertEqual(p.returncode, 104)
        self.assertIn(f"{d}/bad.csv:2: expected", p.stderr)
        p = run_cli("analyze", "usl", f"{d}/missing.csv")
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot read", p.stderr)
        with open(f"{d}/two.csv", "w") as f:
            f.write("1,10\n2,19\n")
        p = run_cli("analyze", "usl", f"{d}/two.csv")
        self.assertEqual(p.returncode, 104)
        self.assertIn("need at least 3 points", p.stderr)


if __name__ == "__main__":
    unittest.main()
