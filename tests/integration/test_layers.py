"""The layering of src/ (scripts/check_layers.py): the tree follows it, and a back-edge is
caught with its file and line."""
import os
import subprocess
import sys
import tempfile
import unittest

from harness import ROOT

CHECK = os.path.join(ROOT, "scripts", "check_layers.py")


def check(root):
    return subprocess.run([sys.executable, CHECK, root], capture_output=True, text=True, timeout=60)


class Layers(unittest.TestCase):
    def test_the_tree_follows_the_layering(self):
        p = check(ROOT)
        self.assertEqual((p.returncode, p.stdout), (0, ""))

    def test_a_back_edge_is_named(self):
        with tempfile.TemporaryDirectory() as d:
            for name, text in (("src/metrics/store.h", '#include "common/clock.h"\n#include "engine/worker.h"\n'),
                               ("src/engine/worker.h", '#include "metrics/store.h"\n'),
                               ("src/gadgets/x.h", "")):
                os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
                with open(os.path.join(d, name), "w") as f:
                    f.write(text)
            p = check(d)
            self.assertEqual(p.returncode, 1)
            self.assertEqual(p.stdout.splitlines(), [
                "src/gadgets: not in the declared layering (scripts/check_layers.py)",
                "src/metrics/store.h:2: metrics -> engine goes up or sideways in the layering",
            ])


if __name__ == "__main__":
    unittest.main()
