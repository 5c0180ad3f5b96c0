"""`monitor: scrape:` — a service's own /metrics read every second during the run (the
built-in target serves its request counter there): a counter becomes its per-second rate,
which equals the rate of the requests the test sent; gauges keep their labels as tags;
thresholds may name them; an endpoint that fails is a note, never a failed run; the
credentials given for it reach the endpoint and nothing that the run writes."""
import json
import os
import subprocess
import tempfile
import textwrap
import unittest

from harness import LOADCELL, RecordingServer, Target, check_page

ARTIFACTS = os.environ.get("LOADCELL_ARTIFACTS", tempfile.gettempdir())


def run_test(yaml_text, *args, timeout=60):
    d = tempfile.mkdtemp(prefix="loadcell-scrape-")
    path = os.path.join(d, "test.yaml")
    with open(path, "w") as f:
        f.write(textwrap.dedent(yaml_text))
    p = subprocess.run([LOADCELL, "run", path, "-q", "--out", f"{d}/r.json", *args], capture_output=True, text=True,
                       timeout=timeout)
    doc = None
    if os.path.exists(f"{d}/r.json"):
        with open(f"{d}/r.json") as f:
            doc = json.load(f)
    return p, doc, d


class Scrape(unittest.TestCase):
    def test_a_counter_becomes_the_request_rate(self):
        with Target("--threads", "2") as t:
            p, doc, _ = run_test(f"""
                name: scrape
                target: {t.url.rstrip('/')}
                monitor:
                  scrape:
                    url: {t.url}metrics
                    metrics: [target_http_requests_total, "target_thr.*"]
                scenarios:
                  steady:
                    executor: constant-arrival-rate
                    rate: 200
                    duration: 6s
                    pre_allocated_vus: 20
                    flow:
                      - request: {{ url: /health }}
                thresholds:
                  monitor_target_http_requests_total: ["max>150"]
                  monitor_target_threads: ["value==2"]
                """)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        th = {x["metric"]: x for x in doc["thresholds"]}
        self.assertTrue(th["monitor_target_http_requests_total"]["ok"])
        self.assertEqual(th["monitor_target_threads"]["observed"], 2)
        # Seconds 2..5 are whole seconds of steady load: 200 requests each, as the target
        # counted them, ±2%.
        rates = [pt["resources"]["monitor_target_http_requests_total"] for pt in doc["series"] if 2 <= pt["t"] <= 5]
        self.assertEqual(len(rates), 4, doc["series"])
        for r in rates:
            self.assertAlmostEqual(r, 200, delta=4, msg=rates)
        # Only the families asked for.
        self.assertEqual({k for pt in doc["series"] for k in pt["resources"] if k.startswith("monitor_")},
                         {"monitor_target_http_requests_total", "monitor_target_threads"})

    def test_labels_become_tags(self):
        body = ('# TYPE pods gauge\npods{phase="Running",ns="shop"} 3\npods{phase="Pending",ns="shop"} 1\n')
        d = tempfile.mkdtemp(prefix="loadcell-scrape-")
        with open(os.path.join(d, "metrics"), "w") as f:
            f.write(body)
        server = subprocess.Popen(["python3", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", d],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            line = server.stdout.readline()
            port = int(line.split("port ")[1].split()[0])
            with Target() as t:
                p, doc, _ = run_test(f"""
                    name: labels
                    target: {t.url.rstrip('/')}
                    monitor:
                      scrape: [ {{ url: "http://127.0.0.1:{port}/metrics" }} ]
                    scenarios:
                      s: {{ executor: constant-vus, vus: 1, duration: 2s, flow: [ {{ request: {{ url: /health }} }} ] }}
                    thresholds:
                      "monitor_pods{{phase:Running}}": ["value==3"]
                      "monitor_pods{{phase:Pending}}": ["value<1"]
                    """, "--report", f"{d}/r.html")
        finally:
            server.kill()
            server.wait()
        self.assertEqual(p.returncode, 99, p.stderr + p.stdout)
        th = {x["metric"]: x for x in doc["thresholds"]}
        self.assertTrue(th["monitor_pods{phase:Running}"]["ok"])
        self.assertFalse(th["monitor_pods{phase:Pending}"]["ok"])
        self.assertEqual(th["monitor_pods{phase:Pending}"]["observed"], 1)
        keys = {k for pt in doc["series"] for k in pt["resources"]}
        self.assertIn('monitor_pods{ns="shop",phase="Running"}', keys)
        # The report draws the family, a line per series, in a real browser.
        rc, v = check_page(f"file://{d}/r.html", os.path.join(ARTIFACTS, "report-monitor.png"), "--charts", "7")
        self.assertEqual(rc, 0, v)
        self.assertIn({"id": "chart-monitor_pods", "drawn": True}, v["drawn"])

    def test_a_failing_endpoint_is_a_note_and_credentials_stay_out(self):
        with RecordingServer() as rec, Target() as t:
            p, doc, d = run_test(f"""
                name: unreachable
                target: {t.url.rstrip('/')}
                monitor:
                  scrape:
                    - {{ url: "http://127.0.0.1:9/metrics", timeout: 500ms }}
                    - {{ url: "{rec.url}/metrics", bearer_token: s3cr3t-t0ken }}
                scenarios:
                  s: {{ executor: constant-vus, vus: 1, duration: 2s, flow: [ {{ request: {{ url: /health }} }} ] }}
                """)
            seen = [h for m, path, h, _ in rec.requests if path == "/metrics"]
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertGreaterEqual(len(seen), 2)
        self.assertEqual(seen[0]["Authorization"], "Bearer s3cr3t-t0ken")
        notes = "\n".join(doc["messages"])
        self.assertIn("monitor scrape http://127.0.0.1:9/metrics: ", notes)
        self.assertIn(f"monitor scrape {rec.url}/metrics: line 1: expected a metric name", notes)
        with open(f"{d}/r.json") as f:
            self.assertNotIn("s3cr3t-t0ken", f.read())

    def test_quick_scrapes_from_the_command_line(self):
        d = tempfile.mkdtemp(prefix="loadcell-scrape-")
        with Target() as t:
            p = subprocess.run([LOADCELL, "quick", f"{t.url}health", "-c", "2", "-d", "3s", "-q", "--monitor-scrape",
                                f"{t.url}metrics", "--out", f"{d}/q.json"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(f"{d}/q.json") as f:
            doc = json.load(f)
        # Second 2 is a whole second of load: the target counted what loadcell sent (±2%).
        second = next(pt for pt in doc["series"] if pt["t"] == 2)
        self.assertAlmostEqual(second["resources"]["monitor_target_http_requests_total"], second["reqs"],
                               delta=0.02 * second["reqs"] + 200)
        self.assertEqual(second["resources"]["monitor_target_threads"], 1)
        bad = subprocess.run([LOADCELL, "quick", f"{t.url}health", "--monitor-scrape", "ftp://x/metrics"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(bad.returncode, 104)
        self.assertEqual(bad.stderr.strip(), "loadcell: --monitor-scrape: an http:// or https:// URL")

    def test_mistakes_are_named_where_they_are(self):
        cases = [
            ("monitor:\n  scrape: { url: ftp://x/metrics }\n", "monitor.scrape.url: an http:// or https:// URL"),
            ("monitor:\n  scrape: { url: http://x/metrics, metrics: [\"(\"] }\n",
             "monitor.scrape.metrics[0]: invalid regular expression"),
            ("thresholds:\n  monitor_up: [\"value==1\"]\n",
             "thresholds.monitor_up: `monitor_up`: monitor_ gauges come from `monitor.scrape` or `monitor.prometheus`, "
             "which this test does not have"),
            ("monitor:\n  scrape: { url: http://x/metrics, token: t }\n", "monitor.scrape.token: unknown key `token`"),
        ]
        for extra, want in cases:
            with self.subTest(want=want):
                d = tempfile.mkdtemp(prefix="loadcell-scrape-")
                path = os.path.join(d, "t.yaml")
                with open(path, "w") as f:
                    f.write("name: bad\ntarget: http://127.0.0.1:9\nscenarios:\n"
                            "  s: { executor: shared-iterations, vus: 1, iterations: 1, "
                            "flow: [ { request: { url: / } } ] }\n" + extra)
                p = subprocess.run([LOADCELL, "validate", path], capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 104, p.stdout + p.stderr)
                self.assertIn(want, p.stderr)


if __name__ == "__main__":
    unittest.main()
