"""`loadcell validate`: the bundled examples are valid; bad files get file:line:col and 104."""
import glob
import os
import tempfile
import unittest

from harness import ROOT, run_cli


class Validate(unittest.TestCase):
    def test_every_example_is_valid(self):
        examples = sorted(glob.glob(os.path.join(ROOT, "examples", "*.yaml")))
        self.assertGreaterEqual(len(examples), 3)
        for path in examples:
            with self.subTest(example=os.path.basename(path)):
                p = run_cli("validate", path)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn(": valid — ", p.stdout)

    def write(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(os.remove, f.name)
        return f.name

    def test_errors_name_file_line_column_and_key(self):
        path = self.write("scenarios:\n  s:\n    executor: constant-vus\n    vus: 1\n    duraton: 1s\n")
        p = run_cli("validate", path)
        self.assertEqual(p.returncode, 104)
        self.assertEqual(p.stderr.strip(), f"{path}:5:5: scenarios.s.duraton: unknown key `duraton` for executor "
                                           "constant-vus (did you mean `duration`?)")
        self.assertEqual(p.stdout, "")

    def test_env_values_from_the_command_line(self):
        path = self.write("target: ${BASE}\nscenarios:\n  s:\n    executor: constant-vus\n    vus: 1\n"
                          "    duration: 1s\n    flow: [ { request: { url: \"/{{ env.PAGE }}\" } } ]\n")
        env = {k: v for k, v in os.environ.items() if k not in ("BASE", "PAGE")}
        import subprocess
        from harness import LOADCELL
        bad = subprocess.run([LOADCELL, "validate", path], capture_output=True, text=True, env=env)
        self.assertEqual(bad.returncode, 104)
        self.assertIn(":1:9: target: environment variable BASE is not set", bad.stderr)
        ok = subprocess.run([LOADCELL, "validate", path, "-e", "BASE=http://127.0.0.1:1", "-e", "PAGE=x"],
                            capture_output=True, text=True, env=env)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        malformed = subprocess.run([LOADCELL, "validate", path, "-e", "NOEQUALS"], capture_output=True, text=True)
        self.assertEqual(malformed.returncode, 104)
        self.assertIn("-e/--env: invalid \"NOEQUALS\": expected KEY=VALUE", malformed.stderr)

    def test_missing_file(self):
        p = run_cli("validate", "/nonexistent/test.yaml")
        self.assertEqual(p.returncode, 104)
        self.assertEqual(p.stderr.strip(), "loadcell: /nonexistent/test.yaml: cannot read the test file: No such file or directory")


if __name__ == "__main__":
    unittest.main()
