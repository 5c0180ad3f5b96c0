#!/usr/bin/env python3
"""Every `#include "dir/..."` under src/ must point down the declared layering: a
directory includes only itself and directories of a lower layer. Static libraries and one
include root would let a back-edge in silently; this check is what stops it. Exit 1 with
every offending line (file:line: dir -> dir) when one is found."""
import os
import re
import sys

# Lowest first. Directories on one layer do not include each other.
LAYERS = [
    ["common"],
    ["net", "monitor"],
    ["protocol"],
    ["metrics"],
    ["scenario"],            # the test language: definitions, loader, templates, thresholds
    ["load"],                # schedules, segments, faults: pure load policy
    ["target", "proxy"],     # the built-in target and the fault-injecting proxy
    ["engine"],              # workers, VUs, steps, the run coordinator
    ["results"],             # the one result model and its merge
    ["analysis"],            # what the results mean (analysis/pipeline.h)
    ["output"],              # files and text written from results
    ["report"],              # the HTML report
    ["live", "history"],     # live endpoints; the run history database
    ["service"],             # `serve`
    ["cli"],                 # arguments in, exit codes out
]
RANK = {d: i for i, layer in enumerate(LAYERS) for d in layer}
INCLUDE = re.compile(r'\s*#\s*include\s+"([a-z0-9_]+)/')


def main(root):
    src = os.path.join(root, "src")
    problems = []
    for directory in sorted(os.listdir(src)):
        path = os.path.join(src, directory)
        if not os.path.isdir(path):
            continue
        if directory not in RANK:
            problems.append(f"src/{directory}: not in the declared layering (scripts/check_layers.py)")
            continue
        for base, _, files in os.walk(path):
            for name in sorted(files):
                if not name.endswith((".h", ".cc")):
                    continue
                file = os.path.join(base, name)
                with open(file, encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m or m.group(1) == directory:
                            continue
                        to = m.group(1)
                        if to not in RANK:
                            problems.append(f"{os.path.relpath(file, root)}:{n}: includes {to}/, not a declared layer")
                        elif RANK[to] >= RANK[directory]:
                            problems.append(f"{os.path.relpath(file, root)}:{n}: {directory} -> {to} goes up or "
                                            f"sideways in the layering")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")))
