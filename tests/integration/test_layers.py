"""The layering of src/ as CMakeLists.txt declares it (scripts/check_layers.py): the tree
follows it, and a back-edge, a cycle or a misplaced source is caught with its file and line."""
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
            for name, text in (("CMakeLists.txt", "loadcell_layer(common SOURCES src/common/a.cc)\n"
                                                  "loadcell_layer(metrics DEPS common\n  SOURCES src/metrics/b.cc)\n"
                                                  "loadcell_layer(engine DEPS metrics LIBS fmt::fmt SOURCES src/engine/c.cc"
                                                  " src/metrics/d.cc)\n"),
                               ("src/metrics/store.h", '#include "common/clock.h"\n#include "engine/worker.h"\n'),
                               ("src/engine/worker.h", '#include "metrics/store.h"\n#include "common/x.h"\n'),
                               ("src/gadgets/x.h", "")):
                os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
                with open(os.path.join(d, name), "w") as f:
                    f.write(text)
            p = check(d)
            self.assertEqual(p.returncode, 1)
            self.assertEqual(p.stdout.splitlines(), [
                "CMakeLists.txt:4: src/metrics/d.cc is not in src/engine/",
                "src/gadgets: not in the declared layering (loadcell_layer in CMakeLists.txt)",
                "src/metrics/store.h:2: metrics -> engine is not among what metrics builds on (its DEPS in "
                "CMakeLists.txt)",
            ])

    def test_a_cycle_is_named(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "CMakeLists.txt"), "w") as f:
                f.write("loadcell_layer(common DEPS net SOURCES)\nloadcell_layer(net DEPS common SOURCES)\n"
                        "loadcell_layer(load DEPS scenario SOURCES)\n")
            os.makedirs(os.path.join(d, "src"))
            p = check(d)
            self.assertEqual(p.returncode, 1)
            self.assertEqual(p.stdout.splitlines(), [
                "CMakeLists.txt:1: the layers form a cycle: common -> net -> common",
                "CMakeLists.txt:3: load depends on scenario, which is not a declared layer",
            ])


if __name__ == "__main__":
    unittest.main()
