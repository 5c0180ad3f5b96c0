"""Credentials given on the command line (-H 'Authorization: ...', Cookie) never reach the
results files, summaries or reports loadcell writes, unless --no-redact."""
import os
import unittest

from harness import Target, quick

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


if __name__ == "__main__":
    unittest.main()
