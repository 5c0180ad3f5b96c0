"""examples/netem/netem-faults.sh: network-level faults with tc netem in a namespace the
script creates. Needs root and `ip netns`; on a kernel without netem the script must say
so (exit 3) after its clean-link run, and leave no namespace or veth behind."""
import os
import shutil
import subprocess
import unittest

from harness import LOADCELL, ROOT

SCRIPT = os.path.join(ROOT, "examples", "netem", "netem-faults.sh")


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("ip") and shutil.which("tc"), "needs root, ip and tc")
class NetemExample(unittest.TestCase):
    def test_runs_and_cleans_up(self):
        before = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        p = subprocess.run([SCRIPT, LOADCELL, "2s"], capture_output=True, text=True, timeout=120)
        self.assertIn("== clean link", p.stdout)
        self.assertRegex(p.stdout, r"\d+ requests in 2\.\d+s")
        if p.returncode == 3:
            self.assertIn("this kernel has no netem qdisc", p.stderr)
        else:
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            line = next(l for l in p.stdout.splitlines() if l.startswith("median:"))
            clean, netem = (float(x) for x in __import__("re").findall(r"([\d.]+) ms", line)[:2])
            self.assertGreater(netem - clean, 40)  # 50 ms ± 5 ms of delay on the way back
        after = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        self.assertEqual(before, after)
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        self.assertNotIn("lcn", links)


if __name__ == "__main__":
    unittest.main()
