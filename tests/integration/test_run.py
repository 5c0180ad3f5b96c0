"""`loadcell run` against the built-in target and nginx: exact counts, journeys with
captured tokens, weighted mixes, arrival rates, dropped iterations, thresholds."""
import json
import os
import subprocess
import tempfile
import textwrap
import unittest

from harness import LOADCELL, Nginx, ROOT, SANITIZED, Target


def run_test(yaml_text, *args, timeout=120, path=None):
    """Runs YAML text (or the file at `path`) with --summary-export; returns (process, summary, dir)."""
    d = tempfile.mkdtemp(prefix="loadcell-test-")
    if path is None:
        path = os.path.join(d, "test.yaml")
        with open(path, "w") as f:
            f.write(textwrap.dedent(yaml_text))
    summary = os.path.join(d, "summary.json")
    p = subprocess.run([LOADCELL, "run", path, "--summary-export", summary, *args], capture_output=True, text=True,
                       timeout=timeout)
    data = None
    if os.path.exists(summary):
        with open(summary) as f:
            data = json.load(f)
    return p, data, d


class Hangup(unittest.TestCase):
    def test_sighup_stops_gracefully_however_often_it_comes(self):
        """A dying `serve` signals its runs once per exiting thread: SIGHUP, never "stop at once"."""
        import signal
        import time
        with Target("--latency", "normal:800ms,10ms") as t:
            d = tempfile.mkdtemp(prefix="loadcell-hup-")
            with open(f"{d}/t.yaml", "w") as f:
                f.write(textwrap.dedent(f"""
                    target: {t.url.rstrip('/')}
                    scenarios:
                      s: {{ executor: constant-vus, vus: 4, duration: 60s, graceful_stop: 20s, flow: [ {{ request: {{ url: / }} }} ] }}
                """))
            for sig, count in ((signal.SIGHUP, 5),):
                out = f"{d}/r-{sig}.ndjson"
                proc = subprocess.Popen([LOADCELL, "run", f"{d}/t.yaml", "--out", out, "--out", f"{d}/r-{sig}.json", "-q"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:  # until it measured a second: requests are in flight
                    if os.path.exists(out) and open(out).read().count('"type":"second"') >= 1:
                        break
                    time.sleep(0.05)
                for _ in range(count):
                    proc.send_signal(sig)
                _, err = proc.communicate(timeout=60)
                self.assertEqual(proc.returncode, 105, err)
                with open(f"{d}/r-{sig}.json") as f:
                    meta = json.load(f)["meta"]
                self.assertTrue(meta["interrupted"])
                self.assertEqual(meta["interrupted_iterations"], 0, err)  # every in-flight request finished


class Run(unittest.TestCase):
    def test_smoke_example_exact(self):
        with Target() as t:
            p, s, _ = run_test(None, "-e", f"TARGET={t.url.rstrip('/')}", path=os.path.join(ROOT, "examples", "smoke.yaml"))
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        m = s["metrics"]
        self.assertEqual(m["http_reqs"]["count"], 20)
        self.assertEqual(m["iterations"]["count"], 20)
        self.assertEqual(m["checks"]["passes"], 20)
        self.assertEqual(m["http_req_failed"]["thresholds"], {"rate==0": {"ok": True}})
        self.assertEqual(m["http_req_duration"]["thresholds"], {"p(95)<200": {"ok": True}})
        self.assertIn("✓ status == 200: 20 of 20 passed", p.stdout)

    def test_login_journey_token_is_accepted_server_side(self):
        with Target("-t", "2") as t:
            p, s, _ = run_test(None, "-e", f"TARGET={t.url.rstrip('/')}", "--duration", "2s",
                               path=os.path.join(ROOT, "examples", "login-journey.yaml"))
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        m = s["metrics"]
        # Every /items request carried the captured token: none was refused with 401.
        self.assertEqual(m["http_req_failed"]["passes"], 0)
        self.assertEqual(m["checks"]["fails"], 0)
        self.assertEqual(m["http_reqs"]["count"], 2 * m["iterations"]["count"])
        self.assertIn("http_req_duration{name:login}", m)
        self.assertIn("group_duration", m)

    def test_open_model_counts_equal_nginx(self):
        with Nginx() as n:
            before = n.requests_served()
            p, s, _ = run_test(f"""
                target: {n.url.rstrip('/')}
                scenarios:
                  steady:
                    executor: constant-arrival-rate
                    rate: 200
                    duration: 3s
                    pre_allocated_vus: 50
                    flow:
                      - request: {{ name: hello, url: / }}
                """)
            after = n.requests_served()
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertEqual(s["metrics"]["http_reqs"]["count"], 600)
        self.assertEqual(after - before - 1, 600)
        self.assertNotIn("dropped_iterations", s["metrics"])

    def test_ramping_arrival_rate_exact_count(self):
        with Target() as t:
            p, s, _ = run_test(f"""
                target: {t.url.rstrip('/')}
                scenarios:
                  ramp:
                    executor: ramping-arrival-rate
                    start_rate: 0
                    pre_allocated_vus: 5
                    stages:
                      - {{ duration: 2s, target: 100 }}
                      - {{ duration: 1s, target: 100 }}
                    flow:
                      - request: {{ url: / }}
                """)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertEqual(s["metrics"]["iterations"]["count"], 200)  # area 100 + 100

    def test_dropped_iterations_when_no_vu_is_free(self):
        with Target("--latency", "fixed:100ms") as t:
            p, s, _ = run_test(f"""
                target: {t.url.rstrip('/')}
                scenarios:
                  tight:
                    executor: constant-arrival-rate
                    rate: 50
                    duration: 2s
                    pre_allocated_vus: 1
                    max_vus: 2
                    flow:
                      - request: {{ url: / }}
                thresholds:
                  dropped_iterations: ["count<10"]
                """, "-t", "1")
        self.assertEqual(p.returncode, 99, p.stdout)
        m = s["metrics"]
        # 2 VUs at 100 ms each serve ~20 of the 100 arrivals; the rest are dropped, never delayed.
        self.assertEqual(m["iterations"]["count"] + m["dropped_iterations"]["count"], 100)
        self.assertGreater(m["dropped_iterations"]["count"], 60)
        self.assertEqual(m["dropped_iterations"]["thresholds"], {"count<10": {"ok": False}})
        self.assertIn("✗ dropped_iterations: count<10", p.stdout)

    def test_weighted_mix_and_tenants(self):
        with Target() as t:
            p, s, _ = run_test(f"""
                target: {t.url.rstrip('/')}
                scenarios:
                  mix:
                    executor: shared-iterations
                    vus: 10
                    iterations: 4000
                    tags: {{ tenant: "t{{{{ vu % 5 }}}}" }}
                    flow:
                      - pick:
                          - {{ weight: 30, request: {{ name: a, url: /a }} }}
                          - {{ weight: 40, request: {{ name: b, url: /b }} }}
                          - {{ weight: 20, request: {{ name: c, url: /c }} }}
                          - {{ weight: 10, request: {{ name: d, url: /d }} }}
                thresholds:
                  "http_reqs{{name:a}}": ["count>0"]
                  "http_reqs{{tenant:t0}}": ["count>0"]
                  "http_req_duration{{tenant:t3}}": ["p(95)<1000"]
                """, "--seed", "7")
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        m = s["metrics"]
        self.assertEqual(m["http_reqs"]["count"], 4000)
        expected = {"a": 0.3, "b": 0.4, "c": 0.2, "d": 0.1}
        counts = {}
        for line in p.stdout.splitlines():
            parts = line.split()
            if len(parts) > 2 and parts[0] in expected and parts[2] == "reqs":
                counts[parts[0]] = int(parts[1])
        self.assertEqual(sum(counts.values()), 4000)
        for name, share in expected.items():
            sigma = (4000 * share * (1 - share)) ** 0.5
            self.assertLess(abs(counts[name] - 4000 * share), 4 * sigma, (name, counts))
        self.assertEqual(m["http_reqs{name:a}"]["count"], counts["a"])
        # 10 VUs, 5 tenants: every tenant sees traffic; the export has its sub-metrics.
        self.assertIn("requests by tenant", p.stdout)
        for tenant in ("t0", "t1", "t2", "t3", "t4"):
            self.assertIn(f"    {tenant} ", p.stdout)
        self.assertGreater(m["http_reqs{tenant:t0}"]["count"], 0)
        self.assertIn("p(95)", m["http_req_duration{tenant:t3}"])

    def test_unique_data_ends_the_scenario_cleanly(self):
        with Target() as t:
            d = tempfile.mkdtemp()
            with open(os.path.join(d, "ids.csv"), "w") as f:
                f.write("id\n1\n2\n3\n4\n")
            p, s, _ = run_test(f"""
                target: {t.url.rstrip('/')}
                data:
                  ids: {{ file: {d}/ids.csv, mode: unique }}
                scenarios:
                  once:
                    executor: shared-iterations
                    vus: 1
                    iterations: 10
                    flow:
                      - request: {{ url: "/items/{{{{ data.ids.id }}}}" }}
                """, "-t", "1")
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertEqual(s["metrics"]["http_reqs"]["count"], 4)
        self.assertIn("exhausted after 4 rows", p.stdout)

    def test_failed_thresholds_exit_99(self):
        with Target("--latency", "fixed:5ms") as t:
            p, s, _ = run_test(f"""
                target: {t.url.rstrip('/')}
                scenarios:
                  s:
                    executor: per-vu-iterations
                    vus: 2
                    iterations: 5
                    flow:
                      - request: {{ name: slow, url: / , check: [ {{ max_duration: 1ms }} ] }}
                thresholds:
                  http_req_duration: ["p(95)<1"]
                  checks: ["rate>0.9"]
                """)
        self.assertEqual(p.returncode, 99, p.stdout)
        self.assertEqual(s["metrics"]["http_reqs"]["count"], 10)
        self.assertEqual(s["metrics"]["http_req_duration"]["thresholds"], {"p(95)<1": {"ok": False}})
        self.assertEqual(s["metrics"]["checks"]["passes"], 0)

    def test_ramping_vus(self):
        with Target() as t:
            p, s, _ = run_test(f"""
                target: {t.url.rstrip('/')}
                scenarios:
                  ramp:
                    executor: ramping-vus
                    start_vus: 0
                    stages:
                      - {{ duration: 1s, target: 4 }}
                      - {{ duration: 1s, target: 0 }}
                    flow:
                      - request: {{ url: / }}
                      - think: 50ms
                """)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertEqual(s["metrics"]["vus_max"]["value"], 4)
        # Sampled each second; at the top of the ramp (1 s) 4 VUs run, give or take the one
        # that starts exactly then.
        self.assertGreaterEqual(s["metrics"]["vus"]["max"], 3)
        self.assertLessEqual(s["metrics"]["vus"]["max"], 4)
        # Roughly 4 VU-seconds of 20 iterations each: about 80.
        self.assertGreater(s["metrics"]["iterations"]["count"], 40)
        self.assertLess(s["metrics"]["iterations"]["count"], 100)


if __name__ == "__main__":
    unittest.main()


class RunControl(unittest.TestCase):
    def test_vus_and_duration_override_a_single_scenario(self):
        with Target() as t:
            p, s, _ = run_test(f"""
                target: {t.url.rstrip('/')}
                scenarios:
                  s:
                    executor: per-vu-iterations
                    vus: 1
                    iterations: 1
                    flow:
                      - request: {{ url: / }}
                      - think: 100ms
                """, "--vus", "3", "--duration", "1s")
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertEqual(s["metrics"]["vus_max"]["value"], 3)
        self.assertGreater(s["metrics"]["iterations"]["count"], 15)  # 3 VUs, ~10 iterations each

    def test_interrupt_writes_the_summary_and_exits_105(self):
        with Target() as t:
            d = tempfile.mkdtemp()
            path = os.path.join(d, "t.yaml")
            with open(path, "w") as f:
                f.write(f"target: {t.url.rstrip('/')}\nscenarios:\n  s:\n    executor: constant-vus\n    vus: 2\n"
                        "    duration: 60s\n    flow:\n      - request: { url: / }\n      - think: 10ms\n")
            summary = os.path.join(d, "s.json")
            p = subprocess.Popen([LOADCELL, "run", path, "--summary-export", summary], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            p.stderr.readline()  # announced: the run is starting
            p.send_signal(2)
            out, _ = p.communicate(timeout=40)
        self.assertEqual(p.returncode, 105)
        self.assertIn("(interrupted)", out)
        with open(summary) as f:
            self.assertTrue(json.load(f)["state"]["interrupted"])


class Timings(unittest.TestCase):
    def test_request_phases_add_up(self):
        with Target("--latency", "fixed:20ms") as t:
            p, s, _ = run_test(f"""
                target: {t.url.rstrip('/')}
                scenarios:
                  s:
                    executor: per-vu-iterations
                    vus: 2
                    iterations: 10
                    flow:
                      - request: {{ url: / }}
                """)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        m = s["metrics"]
        for name in ("http_req_connecting", "http_req_tls_handshaking", "http_req_waiting"):
            self.assertIn(name, m)
        # Not measured yet: not printed, not exported (they were 0 µs in every run).
        for name in ("http_req_blocked", "http_req_sending", "http_req_receiving"):
            self.assertNotIn(name, m)
            self.assertNotIn(name, p.stdout)
        self.assertGreaterEqual(m["http_req_duration"]["med"], 20.0)
        self.assertLessEqual(m["http_req_duration"]["med"], 25.0 if SANITIZED else 22.0)
        self.assertGreaterEqual(m["http_req_waiting"]["min"], 20.0)
        # waiting is all of duration but sending and receiving (connecting is not part of it, as in k6)
        self.assertAlmostEqual(m["http_req_waiting"]["avg"], m["http_req_duration"]["avg"], delta=0.05)
        self.assertEqual(m["http_req_tls_handshaking"]["max"], 0)
        self.assertGreater(m["http_req_connecting"]["max"], 0)  # the first request of each VU connected


class Aborts(unittest.TestCase):
    def test_abort_on_fail_stops_the_test_early(self):
        import time
        with Target() as t:
            start = time.monotonic()
            p, s, _ = run_test(f"""
                target: {t.url.rstrip('/')}
                scenarios:
                  s:
                    executor: constant-vus
                    vus: 2
                    duration: 30s
                    flow:
                      - request: {{ url: /, check: [ {{ status: 201 }} ] }}
                      - think: 10ms
                thresholds:
                  checks: [{{ threshold: "rate>0.99", abort_on_fail: true, delay_abort_eval: 1s }}]
                """)
            elapsed = time.monotonic() - start
        self.assertEqual(p.returncode, 99, p.stdout)
        self.assertLess(elapsed, 10)
        self.assertIn("ABORTED by threshold checks: rate>0.99 failed after", p.stdout)
        self.assertIn("checks: rate>0.99 failed after", s["state"]["aborted_by"])

    def test_second_interrupt_cuts_running_iterations(self):
        import signal
        import socket
        import threading
        import time
        # A server that accepts and reads requests but never answers: iterations hang in
        # their request until something cuts them.
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        port = server.getsockname()[1]
        got_requests = threading.Semaphore(0)
        conns = []

        def serve():
            while True:
                try:
                    c, _ = server.accept()
                except OSError:
                    return
                conns.append(c)
                if c.recv(4096):
                    got_requests.release()

        threading.Thread(target=serve, daemon=True).start()
        d = tempfile.mkdtemp()
        path = os.path.join(d, "t.yaml")
        with open(path, "w") as f:
            f.write(f"target: http://127.0.0.1:{port}\nscenarios:\n  s:\n    executor: constant-vus\n    vus: 2\n"
                    "    duration: 60s\n    graceful_stop: 60s\n    flow:\n      - request: { url: /, timeout: 60s }\n")
        summary = os.path.join(d, "s.json")
        p = subprocess.Popen([LOADCELL, "run", path, "--summary-export", summary, "-t", "1"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(2):
                self.assertTrue(got_requests.acquire(timeout=10))  # both VUs are waiting on a response
            start = time.monotonic()
            p.send_signal(signal.SIGINT)
            while "interrupt again" not in p.stderr.readline():
                pass
            p.send_signal(signal.SIGINT)
            out, _ = p.communicate(timeout=30)
            elapsed = time.monotonic() - start
        finally:
            server.close()
            for c in conns:
                c.close()
        self.assertEqual(p.returncode, 105)
        self.assertLess(elapsed, 5)
        self.assertIn("2 iterations were interrupted", out)
        self.assertTrue(os.path.exists(summary))


class Scenarios(unittest.TestCase):
    def test_concurrent_scenarios_with_their_own_tags_and_start_times(self):
        with Target() as t:
            p, s, _ = run_test(f"""
                target: {t.url.rstrip('/')}
                scenarios:
                  a:
                    executor: per-vu-iterations
                    vus: 2
                    iterations: 3
                    tags: {{ kind: alpha }}
                    flow:
                      - request: {{ url: /a }}
                  b:
                    executor: shared-iterations
                    vus: 1
                    iterations: 4
                    start_time: 500ms
                    tags: {{ kind: beta }}
                    flow:
                      - request: {{ url: /b }}
                thresholds:
                  "http_reqs{{kind:alpha}}": ["count==6"]
                  "http_reqs{{scenario:b}}": ["count==4"]
                  "iterations{{scenario:a}}": ["count==6"]
                """)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertEqual(s["metrics"]["http_reqs"]["count"], 10)
        self.assertGreaterEqual(s["state"]["testRunDurationMs"], 500)  # b started at 500 ms
        self.assertIn("scenario a (per-vu-iterations): 6 iterations", p.stdout)
        self.assertIn("scenario b (shared-iterations): 4 iterations", p.stdout)

    def test_graceful_ramp_down_cuts_iterations_of_removed_vus(self):
        with Target() as t:
            p, s, _ = run_test(f"""
                target: {t.url.rstrip('/')}
                scenarios:
                  ramp:
                    executor: ramping-vus
                    start_vus: 2
                    graceful_ramp_down: 500ms
                    stages:
                      - {{ duration: 1s, target: 2 }}
                      - {{ duration: 0s, target: 1 }}
                      - {{ duration: 3s, target: 1 }}
                    flow:
                      - request: {{ url: / }}
                      - think: 4500ms
                """, "-t", "1")
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        # Both VUs start an iteration at 0 s that would last 4.5 s. VU 2 is ramped down at
        # 1 s and cut 500 ms later; VU 1 finishes at 4.5 s, within its graceful stop.
        self.assertEqual(s["metrics"]["iterations"]["count"], 1)
        self.assertEqual(s["metrics"]["http_reqs"]["count"], 2)
        self.assertIn("1 iterations were interrupted", p.stdout)
