"""Credentials never reach the results files, summaries, reports or history loadcell
writes, unless --no-redact: -H 'Authorization: ...' and Cookie values, -e values with
secret names, `vars` marked `secret: true`, passwords in database URLs."""
import os
import subprocess
import tempfile
import textwrap
import unittest

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

    def test_no_redact_keeps_them(self):
        with Target() as t:
            console, files, _ = self.run_test(t.url, "--no-redact")
        self.assertIn(f"-e TENANT_HEADER={SECRET}", files["r.json"])


if __name__ == "__main__":
    unittest.main()
