"""`monitor: prometheus:` — the team's Prometheus (the Debian package, scraping the built-in
target's own /metrics every second) asked once per second during the run: each value
loadcell records is one that PromQL returns for the same query (an instant query answers
with the latest sample, so every recorded value is one of the samples Prometheus stored);
series keep their labels as tags; thresholds judge them (exit 99); a query Prometheus
refuses is a note with Prometheus's reason, and the run goes on."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import LOADCELL, ROOT, Prometheus, Target, http_get, promql, wait_until


class PrometheusSource(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="loadcell-promsrc-")
        cls.target = Target("--threads", "2")
        cls.prom = Prometheus(cls.d, {"target": f"127.0.0.1:{cls.target.port}"})
        cls.port = cls.prom.port
        wait_until(lambda: promql(cls.port, 'up{job="target"}')["data"]["result"], 30, "Prometheus to scrape the target")

    @classmethod
    def tearDownClass(cls):
        cls.prom.stop()
        cls.target.stop()
        shutil.rmtree(cls.d, ignore_errors=True)

    def run_test(self, monitor, thresholds):
        d = tempfile.mkdtemp(prefix="loadcell-promsrc-run-", dir=self.d)
        queries = "".join(f"      {line}\n" for line in monitor.strip().splitlines())
        limits = "".join(f"  {line}\n" for line in thresholds.strip().splitlines())
        with open(f"{d}/t.yaml", "w") as f:
            f.write(f"name: prometheus source\n"
                    f"target: {self.target.url.rstrip('/')}\n"
                    f"monitor:\n"
                    f"  prometheus:\n"
                    f"    url: http://127.0.0.1:{self.port}\n"
                    f"    queries:\n{queries}"
                    f"scenarios:\n"
                    f"  steady:\n"
                    f"    executor: constant-arrival-rate\n"
                    f"    rate: 100\n"
                    f"    duration: 5s\n"
                    f"    pre_allocated_vus: 10\n"
                    f"    flow:\n"
                    f"      - request: {{ url: /health }}\n"
                    f"thresholds:\n{limits}")
        p = subprocess.run([LOADCELL, "run", f"{d}/t.yaml", "-q", "--out", f"{d}/r.json"], capture_output=True,
                           text=True, timeout=60)
        with open(f"{d}/r.json") as f:
            return p, json.load(f)

    def test_values_are_what_promql_returns(self):
        p, doc = self.run_test('requests: sum(target_http_requests_total)\nup: up{job="target"}\n',
                               'monitor_requests: ["max>0"]\n"monitor_up{job:target}": ["value==1"]\n')
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        recorded = [pt["resources"]["monitor_requests"] for pt in doc["series"] if "monitor_requests" in pt["resources"]]
        self.assertGreaterEqual(len(recorded), 4, doc["series"])
        self.assertEqual(recorded, sorted(recorded))  # a counter, read at increasing instants
        self.assertGreater(recorded[-1], recorded[0])
        # Every value recorded is one of the samples Prometheus stored for that series.
        raw = promql(self.port, 'target_http_requests_total{job="target"}[5m]')["data"]["result"][0]["values"]
        samples = {float(v) for _, v in raw}
        self.assertTrue(set(recorded) <= samples, (recorded, sorted(samples)))
        up = [k for pt in doc["series"] for k in pt["resources"] if k.startswith("monitor_up")]
        self.assertIn(f'monitor_up{{instance="127.0.0.1:{self.target.port}",job="target"}}', up)
        th = {t["metric"]: t for t in doc["thresholds"]}
        self.assertTrue(th["monitor_up{job:target}"]["ok"])

    def test_a_crossed_threshold_fails_and_a_refused_query_is_a_note(self):
        p, doc = self.run_test('requests: sum(target_http_requests_total)\nbroken: "sum(rate(target_http_requests_total[5s]) *"\n',
                               'monitor_requests: ["max<1"]\n')
        self.assertEqual(p.returncode, 99, p.stderr + p.stdout)
        th = {t["metric"]: t for t in doc["thresholds"]}
        self.assertFalse(th["monitor_requests"]["ok"])
        notes = "\n".join(doc["messages"])
        self.assertIn(f"monitor prometheus http://127.0.0.1:{self.port} query broken: Prometheus: ", notes)
        self.assertIn("parse error", notes)
        self.assertEqual(notes.count("query broken"), 1, notes)  # once, not once a second

    def test_mistakes_are_named(self):
        d = tempfile.mkdtemp(prefix="loadcell-promsrc-bad-", dir=self.d)
        cases = [
            ("  prometheus: { url: http://p:9090 }\n", "monitor.prometheus: missing `queries`"),
            ("  prometheus: { url: http://p:9090, queries: { my-pods: up } }\n",
             "monitor.prometheus.queries.my-pods: a query's name becomes the gauge monitor_<name>"),
            ("  prometheus: { url: http://p:9090, queries: { pods: up } }\nthresholds:\n  monitor_pod: [\"value>0\"]\n",
             "thresholds.monitor_pod: `monitor_pod` is none of the queries of `monitor.prometheus` (did you mean "
             "`monitor_pods`?)"),
        ]
        for extra, want in cases:
            with self.subTest(want=want):
                with open(f"{d}/t.yaml", "w") as f:
                    f.write("name: bad\ntarget: http://127.0.0.1:9\nscenarios:\n"
                            "  s: { executor: shared-iterations, vus: 1, iterations: 1, "
                            "flow: [ { request: { url: / } } ] }\nmonitor:\n" + extra)
                p = subprocess.run([LOADCELL, "validate", f"{d}/t.yaml"], capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 104, p.stdout + p.stderr)
                self.assertIn(want, p.stderr)


class DocsExample(unittest.TestCase):
    def test_the_kubernetes_worked_example_validates(self):
        """docs/analysis.md's worked example for a Kubernetes deployment, as written."""
        with open(os.path.join(ROOT, "docs", "analysis.md")) as f:
            doc = f.read()
        section = doc[doc.index("### Worked example: a Kubernetes deployment"):]
        example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
        with tempfile.TemporaryDirectory() as d:
            with open(f"{d}/k8s.yaml", "w") as f:
                f.write(example)
            p = subprocess.run([LOADCELL, "validate", f"{d}/k8s.yaml"], capture_output=True, text=True, timeout=30,
                               env=dict(os.environ, PROM_TOKEN="token"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("6 thresholds", p.stdout)


if __name__ == "__main__":
    unittest.main()
