#!/usr/bin/env python3
"""The layering of src/, as CMakeLists.txt declares it: one `loadcell_layer(DIR DEPS ...)`
per directory (one static library each). A directory may include only itself and what
its DEPS reach; the declarations must form no cycle, name every directory under src/
(cli/ is the executable on top of them all) and list only their own directory's sources.
Static libraries and one include root would let a back-edge in silently; this check is
what stops it. Exit 1 with every problem (file:line: dir -> dir) when one is found."""
import os
import re
import sys

DECLARATION = re.compile(r"^loadcell_layer\(([^)]*)\)", re.M)
INCLUDE = re.compile(r'\s*#\s*include\s+"([a-z0-9_]+)/')
TOP = "cli"  # the executable: may include any layer


def read_layers(root, problems):
    """{dir: (direct deps, sources)} from CMakeLists.txt."""
    with open(os.path.join(root, "CMakeLists.txt"), encoding="utf-8") as f:
        text = f.read()
    layers = {}
    for m in DECLARATION.finditer(text):
        words = m.group(1).split()
        name, section, deps, sources = words[0], None, [], []
        for w in words[1:]:
            if w in ("DEPS", "LIBS", "SOURCES"):
                section = w
            elif section == "DEPS":
                deps.append(w)
            elif section == "SOURCES":
                sources.append(w)
        line = text.count("\n", 0, m.start()) + 1
        if name in layers:
            problems.append(f"CMakeLists.txt:{line}: {name} declared twice")
        layers[name] = (deps, sources, line)
    return layers


def reach(layers, problems):
    """{dir: every dir it may include}, and any cycle or unknown dependency reported."""
    closure = {}

    def visit(d, path):
        if d in closure:
            return closure[d]
        if d in path:
            problems.append(f"CMakeLists.txt:{layers[d][2]}: the layers form a cycle: {' -> '.join(path + [d])}")
            return set()
        out = set()
        for dep in layers[d][0]:
            if dep not in layers:
                problems.append(f"CMakeLists.txt:{layers[d][2]}: {d} depends on {dep}, which is not a declared layer")
                continue
            out |= {dep} | visit(dep, path + [d])
        closure[d] = out
        return out

    for d in layers:
        visit(d, [])
    return closure


def main(root):
    problems = []
    layers = read_layers(root, problems)
    closure = reach(layers, problems)
    for d, (_, sources, line) in layers.items():
        for s in sources:
            if not s.startswith(f"src/{d}/") and "report_assets" not in s:
                problems.append(f"CMakeLists.txt:{line}: {s} is not in src/{d}/")
    src = os.path.join(root, "src")
    for directory in sorted(os.listdir(src)):
        path = os.path.join(src, directory)
        if not os.path.isdir(path):
            continue
        if directory not in layers and directory != TOP:
            problems.append(f"src/{directory}: not in the declared layering (loadcell_layer in CMakeLists.txt)")
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
                        if to not in layers:
                            problems.append(f"{os.path.relpath(file, root)}:{n}: includes {to}/, not a declared layer")
                        elif directory != TOP and to not in closure[directory]:
                            problems.append(f"{os.path.relpath(file, root)}:{n}: {directory} -> {to} is not among "
                                            f"what {directory} builds on (its DEPS in CMakeLists.txt)")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")))
