"""Live alerts against a real Alertmanager (the Debian package prometheus-alertmanager),
routed to a webhook receiver with group_wait 0s, and a webhook loadcell posts to directly.
The built-in target gets an injected latency fault from 3 s to 6 s of a 10 s run; a
threshold on p(95) over the last second crosses during the fault and clears after it:
- Alertmanager holds the firing alert (GET /api/v2/alerts) within 2 s of the crossing and
  no longer holds it active once it cleared; both receivers get the firing and the resolved
  notification, with the test's, threshold's and severity's labels;
- a warning alert leaves the run's exit code 0, a critical threshold's 99."""
import json
import os
import shutil
import subprocess
import tempfile
import textwrap
import threading
import time
import unittest

from harness import LOADCELL, RecordingServer, Target, free_port, http_get, wait_until

TEST = """\
name: alerting
target: {url}
faults:
  - {{ kind: latency, at: 3s, duration: 3s, latency: 150ms }}
alerting:
  {where}
  window: 1s
  labels: {{ team: checkout }}
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 50
    duration: 10s
    pre_allocated_vus: 20
    flow:
      - request: {{ url: /health }}
thresholds:
  http_req_duration:
    - {{ threshold: "p(95)<100", severity: {severity} }}
"""


def posted(server, path=None):
    """The alerts each POST (to `path`) carried, with its arrival time: [(time, status, labels)]."""
    out = []
    for (_, to, _, body), at in zip(list(server.requests), list(server.times)):
        if path is not None and to != path:
            continue
        for a in json.loads(body)["alerts"]:
            out.append((at, a["status"], a["labels"]))
    return out


class Alerts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="loadcell-alerts-")
        cls.target = Target("--threads", "1")
        cls.routed = RecordingServer()   # Alertmanager's webhook receiver
        cls.direct = RecordingServer()   # loadcell's own webhook
        cls.am_port = free_port()
        with open(f"{cls.d}/alertmanager.yml", "w") as f:
            f.write(textwrap.dedent(f"""\
                route:
                  receiver: hook
                  group_by: [alertname, threshold, expr]
                  group_wait: 0s
                  group_interval: 1s
                  repeat_interval: 1h
                receivers:
                  - name: hook
                    webhook_configs: [ {{ url: "{cls.routed.url}/am", send_resolved: true }} ]
                """))
        with open(f"{cls.d}/am.log", "w") as log:
            cls.am = subprocess.Popen(["prometheus-alertmanager", f"--config.file={cls.d}/alertmanager.yml",
                                       f"--storage.path={cls.d}/data", f"--web.listen-address=127.0.0.1:{cls.am_port}",
                                       "--cluster.listen-address="], stdout=log, stderr=log)
        cls.am_url = f"http://127.0.0.1:{cls.am_port}"
        wait_until(lambda: json.loads(http_get(cls.am_url + "/api/v2/status"))["cluster"]["status"], 30,
                   "Alertmanager to start")

    @classmethod
    def tearDownClass(cls):
        cls.am.terminate()
        cls.am.wait(timeout=30)
        cls.routed.stop()
        cls.direct.stop()
        cls.target.stop()
        shutil.rmtree(cls.d, ignore_errors=True)

    def run_test(self, where, severity):
        path = os.path.join(self.d, f"{severity}.yaml")
        with open(path, "w") as f:
            f.write(TEST.format(url=self.target.url.rstrip("/"), where=where, severity=severity))
        p = subprocess.Popen([LOADCELL, "run", path, "-q", "--out", path + ".json"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        return path, p

    def test_alertmanager_holds_the_alert_while_it_fires(self):
        path, p = self.run_test(f"alertmanager: {self.am_url}\n  webhooks: [ {self.direct.url}/hook ]", "warning")
        # Alertmanager's active alerts, polled every 100 ms while the run goes on.
        seen = []
        while p.poll() is None:
            active = [a for a in json.loads(http_get(self.am_url + "/api/v2/alerts?active=true&silenced=false"))
                      if a["labels"].get("test") == "alerting"]
            seen.append((time.time(), bool(active), active))
            time.sleep(0.1)
        out, err = p.communicate()
        self.assertEqual(p.returncode, 0, out + err)  # a warning: reported, the run passes
        with open(path + ".json") as f:
            doc = json.load(f)
        start = doc["meta"]["start_unix"]
        # The fault starts at 3 s: the second [3 s, 4 s) crosses, judged when it completes.
        firing = [t for t, on, _ in seen if on]
        self.assertTrue(firing, "Alertmanager never held the alert")
        self.assertLess(firing[0] - (start + 4), 2.0, (firing[0] - start))
        self.assertGreater(firing[0] - start, 3.0)
        labels = next(a for _, on, a in seen if on)[0]["labels"]
        self.assertEqual({k: labels[k] for k in ("alertname", "test", "threshold", "expr", "severity", "team")},
                         {"alertname": "LoadcellThreshold", "test": "alerting", "threshold": "http_req_duration",
                          "expr": "p(95)<100", "severity": "warning", "team": "checkout"})
        # It cleared after the fault (6 s) and Alertmanager holds it no longer.
        cleared = [t for t, on, _ in seen if not on and t > firing[0]]
        self.assertTrue(cleared, "the alert never cleared")
        self.assertTrue(6 <= cleared[0] - start <= 9, cleared[0] - start)
        wait_until(lambda: not [a for a in json.loads(http_get(self.am_url + "/api/v2/alerts?active=true"))
                                if a["labels"].get("test") == "alerting"], 10, "the alert to be resolved")
        # Both receivers got the firing and the resolved notification.
        wait_until(lambda: {s for _, s, _ in posted(self.routed)} == {"firing", "resolved"}, 15,
                   "Alertmanager's webhook to deliver both")
        direct = posted(self.direct, "/hook")
        self.assertEqual([s for _, s, _ in direct], ["firing", "resolved"], direct)
        self.assertEqual(direct[0][2]["severity"], "warning")
        self.assertLess(direct[0][0] - (start + 4), 2.0)
        # The run's notes say when it fired and cleared.
        notes = [m for m in doc["messages"] if m.startswith("alert: ")]
        self.assertRegex(notes[0], r"alert: http_req_duration: p\(95\)<100 \[warning\] crossed at [345]s")
        self.assertRegex(notes[1], r"cleared at [6-9]s")

    def test_a_critical_threshold_fails_the_run_and_an_unreachable_receiver_is_a_note(self):
        dead = f"http://127.0.0.1:{free_port()}/hook"
        path, p = self.run_test(f"webhooks: [ {self.direct.url}/critical, {dead} ]", "critical")
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 99, out + err)
        critical = [json.loads(r[3]) for r in self.direct.requests if r[1] == "/critical"]
        self.assertEqual([c["status"] for c in critical], ["firing", "resolved"])
        self.assertEqual(critical[0]["alerts"][0]["labels"]["severity"], "critical")
        with open(path + ".json") as f:
            doc = json.load(f)
        failures = [m for m in doc["messages"] if m.startswith("alerts: cannot notify")]
        self.assertEqual(len(failures), 1, doc["messages"])
        self.assertIn(dead, failures[0])

    def test_mistakes_are_named(self):
        cases = [("alerting: { webhooks: [ ftp://x ] }", "alerting.webhooks[0]: an http:// or https:// URL"),
                 ("alerting: { alertmanager: http://am:9093, silence: true }", "alerting.silence: unknown key")]
        for text, want in cases:
            with self.subTest(want=want):
                path = os.path.join(self.d, "bad.yaml")
                with open(path, "w") as f:
                    f.write("name: bad\ntarget: http://127.0.0.1:9\nscenarios:\n  s: { executor: shared-iterations, "
                            "vus: 1, iterations: 1, flow: [ { request: { url: / } } ] }\n"
                            "thresholds: { http_reqs: [\"count>0\"] }\n" + text + "\n")
                p = subprocess.run([LOADCELL, "validate", path], capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 104, p.stderr)
                self.assertIn(want, p.stderr)


if __name__ == "__main__":
    unittest.main()
