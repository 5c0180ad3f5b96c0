"""The live dashboard (`run --dashboard`) in headless Chromium: the page draws every chart,
takes the server-sent updates every second, and at the end its button downloads the HTML
report of the finished run."""
import json
import os
import re
import signal
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

from harness import LOADCELL, ROOT, Target, free_port, wait_for_port
from test_results import ARTIFACTS, check_page

TEST = """
name: dashboard-test
target: ${TARGET}
scenarios:
  api:
    executor: constant-arrival-rate
    rate: 40
    duration: 15s
    pre_allocated_vus: 5
    max_vus: 20
    flow:
      - request: { name: health, url: /health, check: [ { status: 200 } ] }
      - request: { name: items, url: /items }
"""


class Dashboard(unittest.TestCase):
    def test_live_page_and_report_download(self):
        d = tempfile.mkdtemp(prefix="loadcell-dash-")
        port = free_port()
        with open(f"{d}/test.yaml", "w") as f:
            f.write(TEST)
        with Target() as t:
            run = subprocess.Popen([LOADCELL, "run", f"{d}/test.yaml", "-e", f"TARGET={t.url.rstrip('/')}", "-q",
                                    "--dashboard", f"127.0.0.1:{port}", "--linger", "60s", "--out", f"{d}/r.json"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                wait_for_port(port)
                # 15 s of run: a headless Chromium started on a busy 2-core machine can take
                # several seconds before its first update, and the test needs two.
                # Before the end there is no report yet, and the server says so.
                with self.assertRaises(urllib.error.HTTPError) as e:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/report", timeout=5)
                self.assertEqual(e.exception.code, 409)
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/data", timeout=5) as r:
                    self.assertTrue(json.load(r)["live"])
                rc, v = check_page(f"http://127.0.0.1:{port}/", os.path.join(ARTIFACTS, "dashboard.png"), "--wait-live",
                                   "--download", f"{d}/downloaded.html")
                self.assertEqual(rc, 0, v)
                self.assertEqual(v["final_verdict"], "passed")
                self.assertEqual([c["id"] for c in v["drawn"]],
                                 ["chart-latency", "chart-throughput", "chart-vus", "chart-cpu", "chart-memory",
                                  "chart-spectrum"])
            finally:
                run.send_signal(signal.SIGINT)
                out, err = run.communicate(timeout=30)
        self.assertEqual(run.returncode, 0, err)
        with open(f"{d}/r.json") as f:
            doc = json.load(f)
        with open(f"{d}/downloaded.html") as f:
            html = f.read()
        self.assertIn("<title>loadcell report — dashboard-test</title>", html)
        data = json.loads(re.search(r'<script id="report-data" type="application/json">(.*?)</script>', html, re.S).group(1))
        self.assertFalse(data["live"])
        self.assertEqual(data["totals"]["reqs"], doc["metrics"]["http_reqs"]["count"])
        self.assertEqual(data["meta"]["test"], "dashboard-test")


if __name__ == "__main__":
    unittest.main()
