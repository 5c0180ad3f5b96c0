"""Soak analysis with known truth: the built-in target's --leak grows its RSS at a known
rate; the reported growth and its interval contain it and a leak is suspected; with
--leak-cap (a cache that fills, then levels off) nothing is flagged. Both gauges are
usable in thresholds."""
import json
import os
import subprocess
import tempfile
import unittest

from harness import LOADCELL, Target

TEST = """
name: soak-test
target: ${TARGET}
scenarios:
  api:
    executor: constant-arrival-rate
    rate: 50
    duration: 14s
    pre_allocated_vus: 5
    max_vus: 20
    flow:
      - request: { url: /health }
thresholds:
  target_leak_suspected: ["value==0"]
  target_rss_growth_mb_per_h: ["value<1000"]
"""


def soak(*target_args):
    d = tempfile.mkdtemp(prefix="loadcell-soak-")
    with open(f"{d}/t.yaml", "w") as f:
        f.write(TEST)
    with Target(*target_args) as t:
        p = subprocess.run([LOADCELL, "run", f"{d}/t.yaml", "-e", f"TARGET={t.url.rstrip('/')}", "-q",
                            "--monitor-pid", str(t.proc.pid), "--out", f"{d}/r.json"],
                           capture_output=True, text=True, timeout=60)
    with open(f"{d}/r.json") as f:
        return p, json.load(f)


class Soak(unittest.TestCase):
    def setUp(self):
        # The truth here is the target's exact RSS growth; under ASan the target's own
        # allocator (shadow memory, quarantine) grows too, so there is no truth to check.
        if os.environ.get("LOADCELL_SANITIZED") in ("1", "ON", "TRUE"):
            self.skipTest("RSS truth does not hold in a sanitizer build")

    def test_known_leak_is_measured_and_flagged(self):
        p, doc = soak("--leak", "30")  # 30 MiB/min = 1800 MiB/h
        self.assertEqual(p.returncode, 99, p.stdout)
        m = doc["metrics"]
        self.assertEqual(m["target_leak_suspected"]["value"], 1)
        slope = m["target_rss_growth_mb_per_h"]["value"]
        self.assertAlmostEqual(slope, 1800, delta=1800 * 0.02)
        note = next(x for x in doc["messages"] if x.startswith("target RSS grows"))
        self.assertIn("LEAK SUSPECTED", note)
        low, high = [float(v) for v in note.split("[95%: ")[1].split("]")[0].split(", ")]
        self.assertLessEqual(low, 1800 * 1.005)
        self.assertGreaterEqual(high, 1800 * 0.995)
        failed = {t["metric"] for t in doc["thresholds"] if not t["ok"]}
        self.assertEqual(failed, {"target_leak_suspected", "target_rss_growth_mb_per_h"})

    def test_plateau_is_not_flagged(self):
        p, doc = soak("--leak", "240", "--leak-cap", "6")  # 6 MiB in 1.5 s, then flat
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertEqual(doc["metrics"]["target_leak_suspected"]["value"], 0)
        self.assertLess(doc["metrics"]["target_rss_growth_mb_per_h"]["value"], 1000)


if __name__ == "__main__":
    unittest.main()
