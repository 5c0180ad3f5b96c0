"""Hostile targets: a server that misbehaves on purpose (hostile_server.py), one way per
path. Whatever it does, loadcell must not crash or hang (every run ends within its
duration plus the grace period), must count the failure in the right error class, and must
keep its memory bounded (a 200 MB body streams through in < 100 MB RSS).
The same for `run` journeys, WebSocket sessions and PostgreSQL queries."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration"))
from harness import LOADCELL, load_json, quick, rss_bound_kib, run_yaml  # noqa: E402

SANITIZED = os.environ.get("LOADCELL_SANITIZED") in ("1", "ON", "TRUE")
# quick -d 2s --timeout 1s: 2 s of load, then in-flight requests get the timeout as grace.
DURATION, TIMEOUT = 2, 1
SLACK = 6 if SANITIZED else 3  # process start-up and shutdown on a busy 2-core machine
if SANITIZED:
    # ASan's quarantine keeps up to 256 MiB of freed memory to catch use-after-free; with it
    # an RSS bound measures the quarantine. 16 MiB keeps the bound about loadcell's buffers.
    os.environ["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "quarantine_size_mb=16"]))


class HostileServer:
    def __init__(self):
        server = os.path.join(os.path.dirname(__file__), "hostile_server.py")
        self.proc = subprocess.Popen([sys.executable, server], stdout=subprocess.PIPE, text=True)
        words = self.proc.stdout.readline().split()
        ports = dict(zip(words[0::2], (int(w) for w in words[1::2])))
        self.http, self.tls, self.tls_garbage, self.refused = (
            ports["http"], ports["tls"], ports["tls-garbage"], ports["refused"])

    def url(self, path):
        return f"http://127.0.0.1:{self.http}{path}"

    def seen(self, path):
        """How many requests for `path` the server has read so far."""
        with urllib.request.urlopen(self.url("/stats"), timeout=5) as r:
            return json.loads(r.read())["requests"].get(path, 0)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def setUpModule():
    global server
    server = HostileServer()


def tearDownModule():
    server.stop()


class QuickAgainstHostileServer(unittest.TestCase):
    def hostile(self, url, *args, duration=DURATION, timeout=TIMEOUT, connections=3):
        r = quick(url, "-c", str(connections), "-t", "1", "-d", f"{duration}s", "--timeout", f"{timeout}s", *args, timeout=60)
        self.assertIsNotNone(r.results, f"no results written: rc {r.rc}\n{r.stderr}")
        self.assertIn(r.rc, (0, 1), r.stderr)  # never a crash (negative: killed by a signal)
        self.assertLess(r.elapsed, duration + timeout + SLACK, "the run did not end on time")
        # ASan's shadow memory and allocator add to RSS: checked there only for the 200 MB
        # body, below.
        if not SANITIZED:
            self.assertLess(r.peak_rss_kib, 100 * 1024)
        return r

    def hostile_path(self, path, *args):
        """Runs against one path; returns the run and how many requests the server read."""
        before = server.seen(path)
        r = self.hostile(server.url(path), *args)
        return r, server.seen(path) - before

    def assert_all_failed_as(self, r, kind):
        c = r.counters
        self.assertGreater(c["requests"], 0)
        self.assertEqual(c["responses"], 0)
        self.assertEqual(c["failed"], c["requests"])
        self.assertEqual(c["errors"][kind], c["failed"], c["errors"])

    def test_refused_connections_are_connect_errors(self):
        r = self.hostile(f"http://127.0.0.1:{server.refused}/")
        self.assert_all_failed_as(r, "connect")

    def test_a_server_that_never_answers_times_out(self):
        r, seen = self.hostile_path("/never")
        self.assert_all_failed_as(r, "timeout")
        # 3 connections, each request waits the whole 1 s timeout: 2 s hold 6 of them.
        self.assertEqual(r.counters["requests"], 6)
        self.assertEqual(seen, 6)

    def test_reset_in_the_middle_of_the_headers(self):
        self.assert_all_failed_as(self.hostile(server.url("/reset-headers")), "reset")

    def test_reset_in_the_middle_of_the_body(self):
        self.assert_all_failed_as(self.hostile(server.url("/reset-body")), "reset")

    def test_garbage_instead_of_a_status_line(self):
        r, seen = self.hostile_path("/garbage")
        self.assert_all_failed_as(r, "protocol")
        # Every request reached the server, and each failure closed its connection (each of
        # the 3 connections may have opened its next one just before the end).
        self.assertEqual(seen, r.counters["requests"])
        self.assertGreaterEqual(r.counters["connects"], r.counters["requests"])
        self.assertLessEqual(r.counters["connects"], r.counters["requests"] + 3)

    def test_header_section_over_64_kib(self):
        self.assert_all_failed_as(self.hostile(server.url("/huge-headers")), "protocol")

    def test_one_byte_per_100_ms_times_out(self):
        r = self.hostile(server.url("/drip"))
        self.assert_all_failed_as(r, "timeout")
        self.assertEqual(r.counters["requests"], 6)

    def test_invalid_chunk_size(self):
        r, seen = self.hostile_path("/bad-chunk")
        self.assert_all_failed_as(r, "protocol")
        self.assertEqual(seen, r.counters["requests"])

    def test_fewer_body_bytes_than_content_length(self):
        r, seen = self.hostile_path("/short-body")
        self.assert_all_failed_as(r, "protocol")
        self.assertEqual(seen, r.counters["requests"])

    def test_close_after_every_response_without_saying_so(self):
        r, seen = self.hostile_path("/close-always")
        c = r.counters
        self.assertGreater(c["requests"], 100)
        self.assertEqual(c["failed"], 0, c["errors"])
        self.assertEqual(c["responses"], c["requests"])
        # A new connection for each request, without an error (each of the 3 connections
        # may have opened its next one just before the end).
        self.assertGreaterEqual(c["connects"], c["requests"])
        self.assertLessEqual(c["connects"], c["requests"] + 3)
        self.assertEqual(seen, c["requests"])

    def test_200mb_body_streams_through_in_bounded_memory(self):
        r = self.hostile(server.url("/big"), duration=1, timeout=30, connections=1)
        c = r.counters
        self.assertGreaterEqual(c["responses"], 1)
        self.assertEqual(c["failed"], 0, c["errors"])
        self.assertGreaterEqual(c["bytes_in"], 200 * 1024 * 1024 * c["responses"])
        self.assertLess(r.peak_rss_kib, rss_bound_kib(100))

    def test_bad_certificate_fails_tls_unless_insecure(self):
        r = self.hostile(f"https://localhost:{server.tls}/ok")
        self.assert_all_failed_as(r, "tls")
        r = self.hostile(f"https://localhost:{server.tls}/ok", "--insecure")
        self.assertEqual(r.counters["failed"], 0, r.counters["errors"])
        self.assertGreater(r.counters["responses"], 0)

    def test_tls_handshake_answered_with_garbage(self):
        self.assert_all_failed_as(self.hostile(f"https://localhost:{server.tls_garbage}/ok"), "tls")

    def test_misbehaviour_behind_tls(self):
        r = self.hostile(f"https://localhost:{server.tls}/garbage", "--insecure")
        self.assert_all_failed_as(r, "protocol")
        r = self.hostile(f"https://localhost:{server.tls}/never", "--insecure")
        self.assert_all_failed_as(r, "timeout")


class JourneysAgainstHostileServer(unittest.TestCase):
    """`run`: one scenario per misbehaviour, each exactly 2 VUs x 3 iterations, with
    thresholds on the error count of the expected class: 6 in each, and the journey goes on
    after the failure (the next request of the iteration succeeds)."""

    CASES = [
        ("refused", "connect"), ("never", "timeout"), ("reset-headers", "reset"), ("reset-body", "reset"),
        ("garbage", "protocol"), ("huge-headers", "protocol"), ("drip", "timeout"), ("bad-chunk", "protocol"),
        ("short-body", "protocol"), ("tls-cert", "tls"), ("tls-garbage", "tls"),
        ("close-always", None), ("big", None),  # these succeed: new connections, a streamed 200 MB body
    ]

    def url(self, case):
        if case == "refused":
            return f"http://127.0.0.1:{server.refused}/"
        if case == "tls-cert":
            return f"https://localhost:{server.tls}/ok"
        if case == "tls-garbage":
            return f"https://localhost:{server.tls_garbage}/ok"
        return server.url(f"/{case}")

    def test_every_failure_counted_in_its_class_and_the_journey_goes_on(self):
        scenarios, thresholds = [], []
        for case, kind in self.CASES:
            name = case.replace("-", "_")
            scenarios.append(f"""
              {name}:
                executor: per-vu-iterations
                vus: 2
                iterations: 3
                max_duration: 30s
                flow:
                  - request: {{ name: {name}, url: "{self.url(case)}" }}
                  - request: {{ name: {name}_then_ok, url: "{server.url('/ok')}" }}""")
            if kind is None:
                thresholds.append(f"""
              "http_reqs{{name:{name},status:200}}": ["count==6"]""")
            else:
                thresholds.append(f"""
              "http_req_errors{{scenario:{name},kind:{kind}}}": ["count==6"]""")
            thresholds.append(f"""
              "http_reqs{{name:{name}_then_ok,status:200}}": ["count==6"]""")
        test = "defaults:\n  timeout: 1s\nscenarios:" + "".join(scenarios) + "\nthresholds:" + "".join(thresholds) + "\n"
        test = test.replace('url: "' + self.url("big") + '"', 'url: "' + self.url("big") + '", timeout: 30s')
        start = time.monotonic()
        p, s, peak_rss_kib = run_yaml_measured(test)
        elapsed = time.monotonic() - start
        self.assertIsNotNone(s, p.stderr)
        failed = {k: v["thresholds"] for k, v in s["metrics"].items()
                  if any(not t["ok"] for t in v.get("thresholds", {}).values())}
        self.assertEqual(failed, {}, {k: s["metrics"][k] for k in failed})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(s["metrics"]["http_reqs"]["count"], 2 * 6 * len(self.CASES))
        # The slowest scenarios wait 3 x 1 s per VU (never, drip); all run at once (the 200 MB
        # bodies take a few seconds more on a loaded machine).
        self.assertLess(elapsed, 3 * TIMEOUT + 6 + SLACK)
        # Six 200 MB bodies streamed through, two at a time. (Under ASan the allocator keeps
        # what a dozen journeys churned through: ~280 MiB whatever loadcell buffers; the
        # one-body bound above is checked there.)
        if not SANITIZED:
            self.assertLess(peak_rss_kib, 100 * 1024)


def run_yaml_measured(text):
    """`loadcell run` on YAML text: (completed process, summary, peak RSS in KiB)."""
    d = tempfile.mkdtemp(prefix="loadcell-hostile-")
    with open(f"{d}/test.yaml", "w") as f:
        f.write(text)
    with open(f"{d}/stdout", "w+") as out, open(f"{d}/stderr", "w+") as err:
        p = subprocess.Popen([LOADCELL, "run", f"{d}/test.yaml", "--summary-export", f"{d}/summary.json", "-q"],
                             stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(p.args, p.returncode, out.read(), err.read())
    return done, load_json(f"{d}/summary.json"), usage.ru_maxrss


class SessionsAgainstHostileServer(unittest.TestCase):
    """WebSocket sessions and PostgreSQL queries against the same misbehaviours: each failure
    in its class, with the server's own words in the run's messages."""

    def test_websocket_and_postgres_steps(self):
        ws_cases = [  # scenario, url, expected ws_errors kind
            ("ws_refused", f"ws://127.0.0.1:{server.refused}/", "connect"),
            ("ws_never", server.url("/never").replace("http", "ws"), "connect_timeout"),
            ("ws_reset", server.url("/reset-headers").replace("http", "ws"), "reset"),
            ("ws_garbage", server.url("/garbage").replace("http", "ws"), "handshake"),
            ("ws_not_upgraded", server.url("/ok").replace("http", "ws"), "handshake"),
            ("ws_bad_cert", f"wss://localhost:{server.tls}/ok", "tls"),
        ]
        sql_cases = [  # scenario, database, expected sql_errors kind
            ("sql_refused", "down", "connect"),
            ("sql_garbage", "garbage", "connect"),
            ("sql_never", "silent", "timeout"),
        ]
        lines = [
            "databases:",
            f"  down: {{ url: 'postgres://u@127.0.0.1:{server.refused}/db', pool: 2 }}",
            f"  garbage: {{ url: 'postgres://u@127.0.0.1:{server.tls_garbage}/db', pool: 2 }}",
            f"  silent: {{ url: 'postgres://u@127.0.0.1:{server.http}/db', pool: 2 }}",
            "scenarios:",
        ]
        thresholds = ["thresholds:"]
        for name, url, kind in ws_cases:
            lines.append(f"  {name}: {{ executor: per-vu-iterations, vus: 2, iterations: 2, flow: "
                         f"[ {{ ws: {{ url: '{url}', timeout: 1s, steps: [ {{ send: hi }}, {{ receive: hi }} ] }} }} ] }}")
            thresholds.append(f"  'ws_errors{{scenario:{name},kind:{kind}}}': ['count==4']")
        for name, db, kind in sql_cases:
            lines.append(f"  {name}: {{ executor: per-vu-iterations, vus: 2, iterations: 2, flow: "
                         f"[ {{ sql: {{ db: {db}, query: 'select 1', timeout: 1s }} }} ] }}")
            thresholds.append(f"  'sql_errors{{scenario:{name},kind:{kind}}}': ['count==4']")
        start = time.monotonic()
        results = os.path.join(tempfile.mkdtemp(prefix="loadcell-hostile-"), "results.json")
        p, s = run_yaml("\n".join(lines + thresholds) + "\n", "--out", results, timeout=90)
        elapsed = time.monotonic() - start
        self.assertIsNotNone(s, p.stderr)
        failed = {k: v for k, v in s["metrics"].items()
                  if any(not t["ok"] for t in v.get("thresholds", {}).values())}
        self.assertEqual(failed, {})
        self.assertEqual(p.returncode, 0, p.stderr)
        # The silent database holds the start for at most 5 s, then each query waits 1 s.
        self.assertLess(elapsed, 5 + 2 * TIMEOUT + 3 + SLACK)
        messages = "\n".join(json.load(open(results))["messages"])
        for expected in ("connection refused", "handshake refused: 200 OK", "self-signed certificate",
                         r"bad status line '\x00\x01\xffSSH-2.0", "received invalid response to SSL negotiation",
                         "Connection refused Is the server running"):
            self.assertIn(expected, messages)
        self.assertRegex(messages, r"database silent: \d connection\(s\) still not open after 5 s")


if __name__ == "__main__":
    unittest.main()
