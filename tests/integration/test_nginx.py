"""Against a real nginx started by the test: loadcell's request count must equal nginx's own
stub_status counter exactly (keepalive_requests 100 makes nginx close every 100th
response, so reconnection is exercised too), over plain HTTP and TLS."""
import unittest

from harness import Nginx, quick


class AgainstNginx(unittest.TestCase):
    def assert_counts_match(self, nginx, run, before):
        after = nginx.requests_served()
        # The second stub_status request counts itself once.
        self.assertEqual(after - before - 1, run.counters["requests"])
        self.assertEqual(run.counters["failed"], 0)
        self.assertEqual(sum(run.counters["errors"].values()), 0)

    def test_closed_model_count_equals_stub_status(self):
        with Nginx() as n:
            before = n.requests_served()
            r = quick(n.url, "-c", "50", "-t", "2", "-d", "3s")
            self.assertEqual(r.rc, 0, r.stderr)
            self.assert_counts_match(n, r, before)
            # Enough for every connection to be retired several times on any build (speed is
            # bench/'s business).
            self.assertGreater(r.counters["requests"], 3000)
            # 50 connections each reconnected after every 100 responses.
            self.assertGreaterEqual(r.counters["connects"], r.counters["requests"] // 100)

    def test_open_model_count_equals_stub_status(self):
        with Nginx() as n:
            before = n.requests_served()
            r = quick(n.url, "-R", "3000", "-c", "30", "-t", "2", "-d", "3s")
            self.assertEqual(r.rc, 0, r.stderr)
            self.assertEqual(r.counters["requests"], 9000)
            self.assert_counts_match(n, r, before)

    def test_tls_verifies_certificates_unless_insecure(self):
        with Nginx(tls=True) as n:
            bad = quick(n.url, "-c", "2", "-t", "1", "-d", "1s")
            self.assertEqual(bad.rc, 0, bad.stderr)
            self.assertEqual(bad.counters["responses"], 0)
            self.assertGreater(bad.counters["errors"]["tls"], 0)
            before = n.requests_served()
            ok = quick(n.url, "--insecure", "-c", "4", "-t", "2", "-d", "2s")
            self.assertEqual(ok.rc, 0, ok.stderr)
            self.assertGreater(ok.counters["requests"], 500)
            self.assert_counts_match(n, ok, before)

    def test_tls_verification_accepts_a_trusted_certificate_and_checks_the_name(self):
        import os
        with Nginx(tls=True) as n:
            # OpenSSL's default verify paths honour SSL_CERT_FILE: trust the test's own CA.
            env = dict(os.environ, SSL_CERT_FILE=f"{n.dir}/cert.pem")
            before = n.requests_served()
            ok = quick(n.url, "-c", "2", "-t", "1", "-d", "1s", env=env)
            self.assertEqual(ok.rc, 0, ok.stderr)
            self.assertGreater(ok.counters["requests"], 100)
            self.assert_counts_match(n, ok, before)
            # The certificate names localhost, not 127.0.0.1: the name check must fail.
            wrong_name = quick(n.url.replace("localhost", "127.0.0.1"), "-c", "2", "-t", "1", "-d", "1s", env=env)
            self.assertEqual(wrong_name.counters["responses"], 0)
            self.assertGreater(wrong_name.counters["errors"]["tls"], 0)


if __name__ == "__main__":
    unittest.main()
