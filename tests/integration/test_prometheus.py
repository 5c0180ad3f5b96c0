"""Live metrics: `run --prometheus` scraped by a real Prometheus (Debian package) and
queried with PromQL; the exposition passes `promtool check metrics`; the alert rules pass
`promtool check rules` and their unit tests; every Grafana panel's query runs."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
import unittest

from harness import LOADCELL, ROOT, Target, free_port, http_get, promql, wait_until

DEPLOY = os.path.join(ROOT, "deploy")
TEST = """
name: prometheus-test
target: ${TARGET}
scenarios:
  api:
    executor: constant-arrival-rate
    rate: 50
    duration: 4s
    pre_allocated_vus: 5
    max_vus: 20
    flow:
      - request: { name: health, url: /health, check: [ { status: 200 } ] }
thresholds:
  http_req_failed: ["rate==0"]
"""


class Rules(unittest.TestCase):
    def test_rules_check_and_unit_tests(self):
        p = subprocess.run(["promtool", "check", "rules", os.path.join(DEPLOY, "prometheus", "alerts.yml")],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("SUCCESS: 8 rules found", p.stdout)
        p = subprocess.run(["promtool", "test", "rules", "alerts_test.yml"], capture_output=True, text=True,
                           cwd=os.path.join(DEPLOY, "prometheus"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


class Scraped(unittest.TestCase):
    def test_prometheus_scrapes_a_run(self):
        d = tempfile.mkdtemp(prefix="loadcell-prom-")
        metrics_port, prom_port = free_port(), free_port()
        with open(f"{d}/test.yaml", "w") as f:
            f.write(TEST)
        with open(f"{d}/prometheus.yml", "w") as f:
            f.write(textwrap.dedent(f"""\
                global: {{ scrape_interval: 1s, evaluation_interval: 1s }}
                rule_files: [{os.path.join(DEPLOY, "prometheus", "alerts.yml")}]
                scrape_configs:
                  - job_name: loadcell
                    static_configs: [ {{ targets: ["127.0.0.1:{metrics_port}"] }} ]
                """))
        prom = subprocess.Popen(["prometheus", f"--config.file={d}/prometheus.yml", f"--storage.tsdb.path={d}/data",
                                 f"--web.listen-address=127.0.0.1:{prom_port}"],
                                stdout=subprocess.DEVNULL, stderr=open(f"{d}/prometheus.log", "w"))
        try:
            wait_until(lambda: "Ready" in http_get(f"http://127.0.0.1:{prom_port}/-/ready"), 30, "Prometheus ready")
            with Target() as t:
                run = subprocess.Popen([LOADCELL, "run", f"{d}/test.yaml", "-e", f"TARGET={t.url.rstrip('/')}", "-q",
                                        "--prometheus", f"127.0.0.1:{metrics_port}", "--linger", "60s",
                                        "--out", f"{d}/r.json"],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                try:
                    # The run is over once its results file exists; /metrics stays up (--linger).
                    wait_until(lambda: os.path.exists(f"{d}/r.json"), 30, "the run's results")
                    with open(f"{d}/r.json") as f:
                        doc = json.load(f)
                    total = doc["metrics"]["http_reqs"]["count"]
                    self.assertGreaterEqual(total, 195)
                    exposition = http_get(f"http://127.0.0.1:{metrics_port}/metrics")
                    check = subprocess.run(["promtool", "check", "metrics"], input=exposition, capture_output=True,
                                           text=True)
                    self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
                    # PromQL sees exactly the run's request count once the last second is scraped.
                    query = "sum(max_over_time(loadcell_http_reqs_total[5m]))"

                    def scraped_total():
                        res = promql(prom_port, query)["data"]["result"]
                        return res and float(res[0]["value"][1]) == total

                    wait_until(scraped_total, 30, f"Prometheus to report {total} requests")
                    res = promql(prom_port, 'sum(max_over_time(loadcell_checks_total{result="pass"}[5m]))')
                    self.assertEqual(float(res["data"]["result"][0]["value"][1]), total)
                    res = promql(prom_port, "sum(max_over_time(loadcell_http_req_duration_seconds_count[5m]))")
                    self.assertEqual(float(res["data"]["result"][0]["value"][1]), total)
                    # Every Grafana panel's query is valid PromQL against these metrics.
                    self.check_grafana_queries(prom_port)
                finally:
                    run.send_signal(signal.SIGINT)
                    out, err = run.communicate(timeout=30)
                self.assertEqual(run.returncode, 0, err)
                self.assertIn("http_reqs", out)
        finally:
            prom.terminate()
            prom.wait(timeout=30)
            shutil.rmtree(d, ignore_errors=True)

    def check_grafana_queries(self, prom_port):
        with open(os.path.join(DEPLOY, "grafana", "loadcell.json")) as f:
            dash = json.load(f)
        self.assertEqual(dash["uid"], "loadcell")
        exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
        self.assertGreaterEqual(len(exprs), 14)
        for e in exprs:
            q = e.replace("$__rate_interval", "1m").replace("$scenario", ".*").replace("$name", ".*")
            res = promql(prom_port, q)
            self.assertEqual(res["status"], "success", e)
        metrics = {m for e in exprs for m in __import__("re").findall(r"loadcell_[a-z_]+", e)}
        self.assertTrue(metrics <= {"loadcell_http_reqs_total", "loadcell_http_req_failed_total",
                                    "loadcell_http_req_duration_seconds_bucket", "loadcell_vus",
                                    "loadcell_generator_cpu_ratio", "loadcell_http_req_errors_total",
                                    "loadcell_iterations_total", "loadcell_dropped_iterations_total",
                                    "loadcell_checks_total", "loadcell_data_sent_total",
                                    "loadcell_data_received_total", "loadcell_monitor_"}, metrics)


class Generators(unittest.TestCase):
    """Two generators (--segment 1/2, 2/2) scraped by one Prometheus, as the pods of the
    Kubernetes Job are: each series says which generator it came from, and sum() over them
    is the whole test's total."""

    def test_sum_over_generators_is_the_whole_test(self):
        d = tempfile.mkdtemp(prefix="loadcell-prom-gen-")
        ports, prom_port = [free_port(), free_port()], free_port()
        with open(f"{d}/test.yaml", "w") as f:
            f.write(TEST)
        targets = ", ".join(f'"127.0.0.1:{p}"' for p in ports)
        with open(f"{d}/prometheus.yml", "w") as f:
            f.write(textwrap.dedent(f"""\
                global: {{ scrape_interval: 1s }}
                scrape_configs:
                  - job_name: loadcell
                    static_configs: [ {{ targets: [{targets}] }} ]
                """))
        prom = subprocess.Popen(["prometheus", f"--config.file={d}/prometheus.yml", f"--storage.tsdb.path={d}/data",
                                 f"--web.listen-address=127.0.0.1:{prom_port}"],
                                stdout=subprocess.DEVNULL, stderr=open(f"{d}/prometheus.log", "w"))
        runs = []
        try:
            wait_until(lambda: "Ready" in http_get(f"http://127.0.0.1:{prom_port}/-/ready"), 30, "Prometheus ready")
            with Target() as t:
                for k, port in enumerate(ports, 1):
                    runs.append(subprocess.Popen(
                        [LOADCELL, "run", f"{d}/test.yaml", "-e", f"TARGET={t.url.rstrip('/')}", "-q", "--segment",
                         f"{k}/2", "--prometheus", f"127.0.0.1:{port}", "--linger", "60s", "--out", f"{d}/part{k}.json"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
                wait_until(lambda: all(os.path.exists(f"{d}/part{k}.json") for k in (1, 2)), 30, "both parts")
                totals = []
                for k in (1, 2):
                    with open(f"{d}/part{k}.json") as f:
                        totals.append(json.load(f)["metrics"]["http_reqs"]["count"])
                self.assertEqual(sum(totals), 200)  # 50/s for 4 s, split exactly
                self.assertEqual(totals, [100, 100])
                self.assertIn('generator="1"', http_get(f"http://127.0.0.1:{ports[0]}/metrics"))

                def scraped(query, want):
                    res = promql(prom_port, query)["data"]["result"]
                    return res and float(res[0]["value"][1]) == want

                wait_until(lambda: scraped("sum(max_over_time(loadcell_http_reqs_total[5m]))", 200), 30,
                           "Prometheus to sum both generators")
                res = promql(prom_port, "sum by (generator) (max_over_time(loadcell_http_reqs_total[5m]))")
                by_gen = {r["metric"]["generator"]: float(r["value"][1]) for r in res["data"]["result"]}
                self.assertEqual(by_gen, {"1": 100.0, "2": 100.0})
        finally:
            for r in runs:
                r.send_signal(signal.SIGINT)
                r.communicate(timeout=30)
            prom.terminate()
            prom.wait(timeout=30)
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
