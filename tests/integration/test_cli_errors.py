"""Bad input: one line naming the argument, exit 104, nothing runs."""
import unittest

from harness import run_cli


class BadInput(unittest.TestCase):
    CASES = [
        (["quick", "http://127.0.0.1:1/", "--bogus"], "--bogus"),
        (["quick", "http://127.0.0.1:1/", "-d", "10"], "-d/--duration: invalid duration \"10\": missing unit"),
        (["quick", "http://127.0.0.1:1/", "-d", "-5s"], "-d/--duration: invalid duration \"-5s\": must not be negative"),
        (["quick", "http://127.0.0.1:1/", "-d", "0"], "-d/--duration: must be greater than zero"),
        (["quick", "http://127.0.0.1:1/", "-R", "fast"], "-R/--rate: invalid number \"fast\""),
        (["quick", "http://127.0.0.1:1/", "-R", "0"], "-R/--rate: invalid number \"0\""),
        (["quick", "localhost:8080"], "url: invalid URL \"localhost:8080\""),
        (["quick", "ftp://x/"], "url: invalid URL \"ftp://x/\": scheme must be http, https, ws or wss"),
        (["quick", "http://127.0.0.1:1/", "-c", "0"], "--connections"),
        (["quick", "http://127.0.0.1:1/", "-c", "many"], "--connections"),
        (["quick", "http://127.0.0.1:1/", "-H", "NoColon"], "-H/--header: invalid header \"NoColon\""),
        (["quick", "http://127.0.0.1:1/", "--timeout", "soon"], "--timeout: invalid duration \"soon\""),
        (["quick", "http://127.0.0.1:1/", "--body", "@/nonexistent/file"], "--body: cannot read file \"/nonexistent/file\""),
        (["quick"], "loadcell: url: missing (loadcell quick --help)"),
        (["target", "--latency", "gamma:1s"], "--latency: invalid latency distribution \"gamma:1s\""),
        (["target", "--stall", "10s/1s"], "--stall: invalid stall \"10s/1s\""),
        (["target", "--error-rate", "2"], "--error-rate: invalid probability \"2\""),
        (["target", "--listen", "nowhere"], "--listen: invalid address \"nowhere\""),
        (["frobnicate"], "frobnicate"),
        # The first argument that is wrong, named (#16); never the valid ones after it.
        (["run", "--iterations", "5", "t.yaml"], "loadcell: --iterations: unknown option of `loadcell run` (iterations "
                                                 "are set in the test"),
        (["run", "--vsu", "3", "t.yaml"], "loadcell: --vsu: unknown option of `loadcell run` (did you mean --vus?)"),
        (["run", "a.yaml", "b.yaml"], "loadcell: b.yaml: unexpected argument (`loadcell run` takes one file)"),
        (["run"], "loadcell: file: missing (loadcell run --help)"),
        (["run", "script.js"], "loadcell: script.js: loadcell runs test definitions written in YAML (.yaml), not k6 "
                               "JavaScript"),
        (["validate", "test.ts"], "loadcell: test.ts: loadcell runs test definitions written in YAML"),
        (["validate", "/nonexistent/t.yaml"], "loadcell: /nonexistent/t.yaml: cannot read the test file: No such file "
                                              "or directory"),
        (["analyze", "usl", "a.csv", "b.csv"], "loadcell: b.csv: unexpected argument (`loadcell analyze usl` takes one "
                                               "file)"),
        (["compare", "a.json"], "loadcell: current: missing (loadcell compare --help)"),
    ]

    def test_each_bad_input(self):
        for args, expected in self.CASES:
            with self.subTest(args=args):
                p = run_cli(*args, timeout=10)
                self.assertEqual(p.returncode, 104, p.stderr)
                self.assertIn(expected, p.stderr)
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertEqual(p.stdout, "")

    def test_help_and_version(self):
        self.assertEqual(run_cli("--version").returncode, 0)
        p = run_cli("quick", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("--rate", p.stdout)


if __name__ == "__main__":
    unittest.main()
