"""Memory does not grow with run length: the per-second series is downsampled past its
cap (forced down to 10 points here, so 40 s show it; the default is 300) while the totals
stay exact, and RSS late in the run equals RSS early in it (within 5%). The 10-minute
version at full speed is in bench/ (section `memory`)."""
import os
import subprocess
import tempfile
import threading
import time
import unittest

from harness import LOADCELL, Target, load_json

ENV = dict(os.environ, LOADCELL_SERIES_CAP="10")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sample_rss(proc, at_s):
    """RSS of `proc` at the given seconds after it started (waits on the process, so the
    sampling ends when it does)."""
    start, out = time.monotonic(), []
    for t in at_s:
        try:
            proc.wait(timeout=max(0, start + t - time.monotonic()))
            break  # it ended early
        except subprocess.TimeoutExpired:
            out.append(rss_kib(proc.pid))
    return out


@unittest.skipIf(os.environ.get("LOADCELL_SANITIZED") in ("1", "ON", "TRUE"),
                 "ASan's quarantine keeps freed memory resident: RSS is not the program's here")
class SteadyMemory(unittest.TestCase):
    def check_rss(self, samples):
        self.assertEqual(len(samples), 2, samples)
        early, late = samples
        print(f"RSS {early} KiB at 12 s, {late} KiB at 38 s")
        self.assertLess(abs(late - early) / early, 0.05, f"RSS {early} KiB at 12 s, {late} KiB at 38 s")

    def test_quick(self):
        d = tempfile.mkdtemp(prefix="loadcell-mem-")
        with Target() as t:
            p = subprocess.Popen([LOADCELL, "quick", t.url, "-R", "5000", "-c", "20", "-t", "1", "-d", "40s", "--out",
                                  f"{d}/r.json", "--hlog", f"{d}/r.hlog"], env=ENV, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            samples = sample_rss(p, [12, 38])
            self.assertEqual(p.wait(timeout=60), 0)
        self.check_rss(samples)
        r = load_json(f"{d}/r.json")
        series = r["series"]
        self.assertLessEqual(len(series), 10)  # the series cap, as for run
        self.assertEqual(sum(s["reqs"] for s in series), r["metrics"]["http_reqs"]["count"])
        self.assertEqual(r["metrics"]["http_reqs"]["count"], 200000)  # 5000/s for 40 s, exactly
        self.assertAlmostEqual(sum(s["dur"] for s in series), r["meta"]["duration_s"], delta=0.01)
        # The interval log is written as the run goes: one whole histogram per second.
        with open(f"{d}/r.hlog") as f:
            lines = [line for line in f if line[:1].isdigit()]
        self.assertIn(len(lines), (40, 41))

    def test_run(self):
        d = tempfile.mkdtemp(prefix="loadcell-mem-")
        with open(f"{d}/t.yaml", "w") as f:
            f.write("target: ${TARGET}\nscenarios:\n  s:\n    executor: constant-arrival-rate\n    rate: 2000\n"
                    "    duration: 40s\n    pre_allocated_vus: 20\n    flow:\n"
                    "      - request: { name: a, url: /health }\n      - request: { name: b, url: /health }\n")
        with Target() as t:
            p = subprocess.Popen([LOADCELL, "run", f"{d}/t.yaml", "-e", f"TARGET={t.url.rstrip('/')}", "-t", "1", "-q",
                                  "--out", f"{d}/r.json", "--out", f"{d}/r.ndjson"], env=ENV,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            samples = sample_rss(p, [12, 38])
            self.assertEqual(p.wait(timeout=60), 0)
        self.check_rss(samples)
        r = load_json(f"{d}/r.json")
        self.assertLessEqual(len(r["series"]), 10)
        self.assertEqual(sum(s["reqs"] for s in r["series"]), r["metrics"]["http_reqs"]["count"])
        self.assertAlmostEqual(sum(s["dur"] for s in r["series"]), r["meta"]["duration_s"], delta=0.01)
        # The stream still holds every second.
        with open(f"{d}/r.ndjson") as f:
            self.assertGreaterEqual(sum('"type":"second"' in line for line in f), 40)


if __name__ == "__main__":
    unittest.main()
