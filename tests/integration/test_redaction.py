"""Credentials never reach the results files, summaries, reports or history loadcell
writes, unless --no-redact: -H 'Authorization: ...' and Cookie values, -e values with
secret names, `vars` marked `secret: true`, passwords in database URLs."""
import os
import signal
import subprocess
import tempfile
import textwrap
import time
import unittest
import urllib.error
import urllib.request

from harness import LOADCELL, Target, free_port, quick

SECRET = "s3cret-token-4711"


def files_under(d):
    for name in os.listdir(d):
        path = os.path.join(d, name)
        if os.path.isfile(path):
            with open(path, errors="replace") as f:
                yield name, f.read()


class Redaction(unittest.TestCase):
    def test_quick_outputs_carry_no_credentials(self):
        with Target() as t:
            r = quick(t.url, "-c", "2", "-t", "1", "-d", "300ms", "-H", f"Authorization: Bearer {SECRET}",
                      f"--header=Cookie: sid={SECRET}")
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertNotIn(SECRET, r.stdout + r.stderr)
        for name, text in files_under(r.dir):
            self.assertNotIn(SECRET, text, name)
        self.assertIn("Authorization: [redacted]", r.results["meta"]["command_line"])

    def test_no_redact_keeps_them(self):
        with Target() as t:
            r = quick(t.url, "-c", "1", "-t", "1", "-d", "200ms", "-H", f"Authorization: Bearer {SECRET}", "--no-redact")
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertIn(f"Authorization: Bearer {SECRET}", r.results["meta"]["command_line"])



class SecretVars(unittest.TestCase):
    """A secret var, given with -e under a name that does not look secret, travels in a
    header and a WebSocket URL; a database password sits in a URL that fails. Not one
    output, console line or history row carries either value."""

    def run_test(self, target, *extra):
        d = tempfile.mkdtemp(prefix="loadcell-secrets-")
        refused = free_port()
        with open(f"{d}/test.yaml", "w") as f:
            f.write(textwrap.dedent(f"""
                vars:
                  api_key: {{ value: "${{TENANT_HEADER}}", secret: true }}
                databases:
                  main: {{ url: "postgres://app:{SECRET}-pg@127.0.0.1:{refused}/app", pool: 1 }}
                scenarios:
                  s:
                    executor: per-vu-iterations
                    vus: 2
                    iterations: 3
                    flow:
                      - request: {{ url: "{target}", headers: {{ X-Api-Key: "{{{{ vars.api_key }}}}" }} }}
                      - ws: {{ url: "ws://127.0.0.1:{refused}/feed?key={{{{ vars.api_key }}}}", steps: [ {{ send: hi }} ] }}
                      - sql: {{ db: main, query: "select 1" }}
                """))
        p = subprocess.run([LOADCELL, "run", f"{d}/test.yaml", "-e", f"TENANT_HEADER={SECRET}", "--out", f"{d}/r.json",
                            "--out", f"{d}/r.ndjson", "--summary-export", f"{d}/summary.json", "--report",
                            f"{d}/report.html", "--history", f"{d}/history.db", *extra],
                           capture_output=True, text=True, timeout=120)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        r = subprocess.run([LOADCELL, "report", f"{d}/r.json", "--junit", f"{d}/junit.xml", "--markdown",
                            f"{d}/summary.md", "--csv", f"{d}/series.csv"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(f"{d}/history.db", "rb") as f:
            history = f.read().decode("latin-1")
        return p.stdout + p.stderr + r.stdout + r.stderr, dict(files_under(d)), history

    def test_secret_values_reach_no_output(self):
        with Target() as t:
            console, files, history = self.run_test(t.url)
        self.assertNotIn(SECRET, console)
        self.assertNotIn(SECRET, history)
        for name, text in files.items():
            if name != "test.yaml":
                self.assertNotIn(SECRET, text, name)
        # The failures are still explained; the command line keeps the secret's place.
        self.assertIn("ws://127.0.0.1", console)
        self.assertIn("connection refused", console)
        self.assertIn("-e TENANT_HEADER=[redacted]", files["r.json"])

    def test_dashboard_and_metrics_carry_no_secret(self):
        dash, prom = free_port(), free_port()
        d = tempfile.mkdtemp(prefix="loadcell-secrets-")
        with open(f"{d}/test.yaml", "w") as f:
            f.write('vars:\n  api_key: { value: "${TENANT_HEADER}", secret: true }\nscenarios:\n  s:\n'
                    '    executor: per-vu-iterations\n    vus: 2\n    iterations: 3\n    flow:\n'
                    '      - request: { url: "${TARGET}", headers: { X-Api-Key: "{{ vars.api_key }}" } }\n')
        with Target() as t:
            run = subprocess.Popen([LOADCELL, "run", f"{d}/test.yaml", "-e", f"TENANT_HEADER={SECRET}", "-e",
                                    f"TARGET={t.url}", "-q", "--dashboard", f"127.0.0.1:{dash}", "--prometheus",
                                    f"127.0.0.1:{prom}", "--linger", "60s"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                # The report is served once the run is over (409 before): poll for it.
                deadline, report = time.monotonic() + 30, None
                while report is None and time.monotonic() < deadline:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{dash}/report", timeout=5) as r:
                            report = r.read().decode()
                    except (urllib.error.HTTPError, urllib.error.URLError, ConnectionError):
                        time.sleep(0.1)
                self.assertIsNotNone(report, "the dashboard never served the report")
                pages = {"report": report}
                for name, url in (("data", f"http://127.0.0.1:{dash}/data"), ("page", f"http://127.0.0.1:{dash}/"),
                                  ("metrics", f"http://127.0.0.1:{prom}/metrics")):
                    with urllib.request.urlopen(url, timeout=5) as r:
                        pages[name] = r.read().decode()
            finally:
                run.send_signal(signal.SIGINT)
                out, err = run.communicate(timeout=30)
        self.assertEqual(run.returncode, 0, err)
        for name, text in pages.items():
            self.assertNotIn(SECRET, text, name)
        self.assertIn("TENANT_HEADER=[redacted]", pages["data"])
        self.assertNotIn(SECRET, out + err)

    def test_no_redact_keeps_them(self):
        with Target() as t:
            console, files, _ = self.run_test(t.url, "--no-redact")
        self.assertIn(f"-e TENANT_HEADER={SECRET}", files["r.json"])


if __name__ == "__main__":
    unittest.main()
