"""Golden files: each invalid test in tests/golden/validate gives exactly its .expected message."""
import glob
import os
import subprocess
import unittest

from harness import LOADCELL, ROOT

GOLDEN = os.path.join(ROOT, "tests", "golden", "validate")


class GoldenValidate(unittest.TestCase):
    def test_messages(self):
        cases = sorted(glob.glob(os.path.join(GOLDEN, "*.yaml")))
        self.assertGreaterEqual(len(cases), 10)
        for path in cases:
            name = os.path.basename(path)
            with self.subTest(case=name):
                with open(path[:-5] + ".expected") as f:
                    expected = f.read()
                p = subprocess.run([LOADCELL, "validate", name], capture_output=True, text=True, cwd=GOLDEN, timeout=10)
                self.assertEqual(p.returncode, 104)
                self.assertEqual(p.stderr, expected)
                self.assertEqual(p.stdout, "")


if __name__ == "__main__":
    unittest.main()
