"""`loadcell serve` and live alerts: a run the service starts posts its threshold crossings
back to the service while it goes on (a webhook with a key only that run knows); the
service opens a `live` alert event when one fires, escalates a warning nobody acknowledged
within `--escalate-after` to critical, and resolves it when the crossing clears."""
import shutil
import tempfile
import textwrap
import time
import unittest
import urllib.error
import urllib.request

from harness import Target
from test_serve import Server

TEST = """\
name: live
target: {url}
faults:
  - {{ kind: latency, at: 1s, duration: 4s, latency: 150ms }}
alerting: {{ window: 1s }}
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 40
    duration: 8s
    pre_allocated_vus: 20
    flow:
      - request: {{ url: /health }}
thresholds:
  http_req_duration:
    - {{ threshold: "p(95)<100", severity: warning }}
"""


class LiveAlerts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="loadcell-serve-alerts-")
        cls.target = Target("--threads", "1")
        cls.server = Server(f"{cls.dir}/service.db", "--escalate-after", "1500ms")
        cls.server.token = cls.server.read_token()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.target.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_a_warning_opens_escalates_and_resolves_while_the_run_goes_on(self):
        call = self.server.call
        status, t = call("POST", "/api/v1/tests", {"name": "live", "yaml": TEST.format(url=self.target.url.rstrip("/"))})
        self.assertEqual(status, 201, t)
        status, r = call("POST", "/api/v1/runs", {"test_id": t["id"]})
        self.assertEqual(status, 201, r)
        # Polled while the run goes on: the event as the service holds it, second by second.
        states = []
        while True:
            run = call("GET", f"/api/v1/runs/{r['id']}")[1]
            live = [a for a in call("GET", f"/api/v1/alerts?run_id={r['id']}")[1]["alerts"] if a["kind"] == "live"]
            states.append((run["status"], [(a["status"], a["severity"]) for a in live]))
            if run["status"] not in ("queued", "running"):
                break
            time.sleep(0.1)  # polling the API for a state change
        during = [s for status, s in states if status == "running"]
        self.assertIn([("open", "warning")], during, states)      # fired during the run
        self.assertIn([("open", "critical")], during, states)     # escalated: nobody acknowledged it
        self.assertEqual(run["status"], "passed", run)            # a warning does not fail the run
        live = [a for a in call("GET", f"/api/v1/alerts?run_id={r['id']}")[1]["alerts"] if a["kind"] == "live"]
        self.assertEqual(len(live), 1, live)
        a = live[0]
        self.assertEqual((a["status"], a["severity"]), ("resolved", "critical"))
        self.assertTrue(a["message"].startswith("http_req_duration: p(95)<100 [warning] crossed on the last 1s"), a)
        self.assertIn("escalated: not acknowledged within 1.5s", a["message"])
        self.assertIsNotNone(a["resolved"])

    def test_only_the_run_itself_may_post_its_alerts(self):
        req = urllib.request.Request(self.server.base + "/internal/runs/1/alerts?key=00", data=b"{}", method="POST")
        try:
            urllib.request.urlopen(req, timeout=10)
            status = 200
        except urllib.error.HTTPError as e:
            status = e.code
        self.assertEqual(status, 403)


if __name__ == "__main__":
    unittest.main()
