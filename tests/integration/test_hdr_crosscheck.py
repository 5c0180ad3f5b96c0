"""Our HdrHistogram V2 encoding decoded by an independent implementation
(hdr-histogram-js from npm): totals, percentiles and the interval log must agree exactly."""
import json
import os
import subprocess
import unittest

from harness import ROOT, Target, quick


class CrossDecode(unittest.TestCase):
    def test_hdr_histogram_js_reads_what_we_write(self):
        with Target("--latency", "uniform:1ms..5ms") as t:
            r = quick(t.url, "-c", "20", "-t", "2", "-d", "2s")
        self.assertEqual(r.rc, 0, r.stderr)
        js = os.path.join(ROOT, "tests", "js")
        p = subprocess.run(["node", os.path.join(js, "decode.js"), f"{r.dir}/results.json", f"{r.dir}/run.hlog"],
                           capture_output=True, text=True, cwd=js, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = json.loads(p.stdout)
        total = got["total"]
        self.assertEqual(total["total"], r.counters["responses"])
        d = r.metric("http_req_duration")
        # Trends are exported in ms; the histogram holds microseconds.
        for pct, key in (("50", "p(50)"), ("90", "p(90)"), ("99", "p(99)"), ("99.9", "p(99.9)")):
            self.assertEqual(total["percentiles"][pct], round(d[key] * 1000), pct)
        self.assertEqual(total["min"], round(d["min"] * 1000))
        self.assertAlmostEqual(total["mean"], d["avg"] * 1000, delta=1e-6)
        self.assertEqual(got["per_second_counts"], [p["reqs"] for p in r.results["series"]])
        self.assertEqual(got["log"]["intervals"], len(r.results["series"]))
        self.assertEqual(got["log"]["merged"]["total"], total["total"])
        self.assertEqual(got["log"]["merged"]["percentiles"], total["percentiles"])


if __name__ == "__main__":
    unittest.main()
