"""HTTP/2 (`quick --h2`) against a real nginx with http2 enabled: request counts equal
nginx's own stub_status counter exactly, over cleartext with prior knowledge and over TLS
with ALPN, with several streams per connection, in both load models, with nginx retiring
connections by GOAWAY every 100 requests; and servers that do not speak HTTP/2."""
import json
import os
import subprocess
import tempfile
import textwrap
import unittest

from harness import LOADCELL, Nginx, SANITIZED, Target, quick, run_cli


class AgainstNginx(unittest.TestCase):
    def assert_counts_match(self, nginx, run, before):
        after = nginx.requests_served()
        self.assertEqual(after - before - 1, run.counters["requests"])  # the second status request counts itself
        self.assertEqual(run.counters["failed"], 0, run.counters)
        self.assertEqual(sum(run.counters["errors"].values()), 0)

    def test_prior_knowledge_closed_model_many_streams(self):
        with Nginx(h2=True) as n:
            before = n.requests_served()
            r = quick(n.url, "--h2", "--streams", "10", "-c", "4", "-t", "2", "-d", "3s")
            self.assertEqual(r.rc, 0, r.stderr)
            self.assert_counts_match(n, r, before)
            # Enough for 30+ GOAWAY cycles on any build (speed is bench/'s business).
            self.assertGreater(r.counters["requests"], 3000)
            # keepalive_requests 100: nginx sends GOAWAY every 100 streams; the connection is
            # replaced and the streams it refused are sent again, none lost or counted twice.
            self.assertGreaterEqual(r.counters["connects"], r.counters["requests"] // 100)
            self.assertEqual(r.counters["status"]["200"], r.counters["requests"])

    def test_tls_alpn_open_model_exact_count(self):
        with Nginx(tls=True, h2=True) as n:
            before = n.requests_served()
            r = quick(n.url, "--h2", "--insecure", "--streams", "5", "-c", "3", "-t", "1", "-R", "2000", "-d", "2s")
            self.assertEqual(r.rc, 0, r.stderr)
            self.assertEqual(r.counters["requests"], 4000)
            self.assert_counts_match(n, r, before)
            lag = r.metric("iteration_start_lag")
            self.assertLess(lag["p(99)"], 200 if SANITIZED else 50)

    def test_tls_closed_model_goaway_streams_resent_exactly(self):
        # Over TLS nginx resets the connection after its GOAWAY, with our streams above the
        # GOAWAY's last id still open: they were not processed and must be sent again.
        with Nginx(tls=True, h2=True) as n:
            before = n.requests_served()
            r = quick(n.url, "--h2", "--insecure", "--streams", "10", "-c", "4", "-t", "1", "-d", "2s")
            self.assertEqual(r.rc, 0, r.stderr)
            self.assert_counts_match(n, r, before)
            # nginx retires a connection after 100 requests (keepalive_requests): every
            # hundred took a GOAWAY and a new connection; at least 10 of them (an ASan build
            # over TLS makes ~8,000 requests in the 2 s, a plain one ~30,000).
            self.assertGreaterEqual(r.counters["connects"], r.counters["requests"] // 100)
            self.assertGreater(r.counters["connects"], 10)

    def test_run_with_http2_defaults_shares_connections_exactly(self):
        for tls in (False, True):
            with self.subTest(tls=tls), Nginx(tls=tls, h2=True) as n:
                d = tempfile.mkdtemp(prefix="loadcell-h2run-")
                with open(f"{d}/t.yaml", "w") as f:
                    f.write(textwrap.dedent(f"""
                        target: {n.url}
                        defaults:
                          http: {{ version: 2, streams: 10 }}
                        scenarios:
                          s:
                            executor: constant-vus
                            vus: 40
                            duration: 2s
                            flow:
                              - request: {{ name: templated, url: "/?vu={{{{ vu }}}}", check: [ {{ status: 200 }}, {{ body_contains: nginx }} ] }}
                              - request: {{ name: static, url: /, capture: [ {{ header: content-type, as: ct }} ] }}
                              - request: {{ name: captured, url: "/?ct={{{{ ct }}}}" }}
                    """))
                before = n.requests_served()
                p = subprocess.run([LOADCELL, "run", f"{d}/t.yaml", "-q", "--summary-export", f"{d}/s.json",
                                    *(["--insecure"] if tls else [])], capture_output=True, text=True, timeout=120)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                m = json.load(open(f"{d}/s.json"))["metrics"]
                served = n.requests_served() - before - 1
                self.assertEqual(m["http_reqs"]["count"], served)
                self.assertEqual(m["http_req_failed"]["passes"], 0)
                self.assertEqual(m["checks"]["fails"], 0)
                self.assertEqual(m["http_reqs"]["count"], 3 * m["iterations"]["count"])
                self.assertEqual(m["checks"]["passes"], 2 * m["iterations"]["count"])
                self.assertNotIn("capture_failures", m)
                self.assertGreater(served, 3000)

    def test_tls_server_without_h2_is_a_protocol_failure(self):
        with Nginx(tls=True) as n:  # TLS, HTTP/1.1 only: ALPN does not pick h2
            r = quick(n.url, "--h2", "--insecure", "-c", "2", "-t", "1", "-d", "1s", "--timeout", "500ms")
            self.assertEqual(r.rc, 0, r.stderr)
            self.assertEqual(r.counters["responses"], 0)
            # nginx answers the ALPN offer of h2 alone with a no_application_protocol alert.
            self.assertGreater(r.counters["errors"]["tls"] + r.counters["errors"]["protocol"], 0)
            self.assertEqual(r.counters["failed"], r.counters["requests"])
            self.assertLess(r.elapsed, 15)


class ResettingServer(unittest.TestCase):
    """A server that drops its connections with an RST and no GOAWAY after every 50 answers,
    with the client's other streams still open (python3-h2, h2_reset_server.py)."""

    def test_unanswered_streams_are_resent_on_the_reused_connection(self):
        # One connection per worker: the stream sent again after the link is lost lands on
        # the same pool slot as it reconnects, and must go out on the new connection (it was
        # once failed as `reset` with that slot's queue, never reaching the server).
        server = subprocess.Popen(["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "h2_reset_server.py"),
                                   "--every", "50"], stdout=subprocess.PIPE, text=True)
        try:
            port = int(server.stdout.readline())
            d = tempfile.mkdtemp(prefix="loadcell-h2reset-")
            with open(f"{d}/t.yaml", "w") as f:
                f.write(textwrap.dedent(f"""
                    target: http://127.0.0.1:{port}
                    defaults:
                      http: {{ version: 2, streams: 10 }}
                    scenarios:
                      s:
                        executor: shared-iterations
                        vus: 8
                        iterations: 2000
                        max_duration: 60s
                        flow:
                          - request: {{ url: /, check: [ {{ status: 200 }} ] }}
                """))
            p = subprocess.run([LOADCELL, "run", f"{d}/t.yaml", "-q", "--threads", "2", "--summary-export", f"{d}/s.json"],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(f"{d}/s.json") as f:
                m = json.load(f)["metrics"]
        finally:
            server.terminate()
            counts = json.loads(server.communicate(timeout=30)[0].strip().splitlines()[-1])
        self.assertEqual(m["http_req_failed"]["passes"], 0, m.get("http_req_errors"))
        self.assertEqual(m["http_reqs"]["count"], 2000)
        self.assertEqual(counts["answered"], 2000)
        # 2000 answers at 50 per connection: 40 connections reset, each with streams open.
        self.assertGreaterEqual(counts["connections"], 40)
        self.assertGreater(counts["received"], counts["answered"])


class NotHttp2(unittest.TestCase):
    def test_prior_knowledge_to_an_http1_server_fails_cleanly(self):
        with Target() as t:
            r = quick(t.url, "--h2", "-c", "2", "-t", "1", "-d", "1s", "--timeout", "500ms")
            self.assertEqual(r.rc, 0, r.stderr)
            self.assertEqual(r.counters["responses"], 0)
            self.assertGreater(r.counters["failed"], 0)
            self.assertLess(r.elapsed, 15)

    def test_streams_need_h2(self):
        p = run_cli("quick", "http://127.0.0.1:1/", "--streams", "4", "-d", "1s")
        self.assertEqual(p.returncode, 104)
        self.assertIn("--streams", p.stderr)
        self.assertIn("needs --h2", p.stderr)


if __name__ == "__main__":
    unittest.main()
