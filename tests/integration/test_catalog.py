"""The catalogues the docs are checked against, so that the reference cannot drift: the
metric catalogue (src/metrics/catalog.cc) is the one list of metrics — every name the code
records is in it, docs/metrics.md documents exactly it, a threshold may name any of it —
and every key, step and executor the loader accepts (src/scenario/loader*.cc) is in
docs/test-definition.md."""
import os
import re
import subprocess
import tempfile
import textwrap
import unittest

from harness import LOADCELL, ROOT

ENTRY = re.compile(r'\{"([a-z_]+)",\s*T::k(\w+),\s*U::k(\w+),\s*"((?:[^"\\]|\\.)*)"(?:\s*"((?:[^"\\]|\\.)*)")?\}',
                   re.S)
UNITS = {"Count": "count", "Time": "time", "Bytes": "bytes", "BytesPerSecond": "bytes/s", "Percent": "%", "None": ""}
RECORDED = re.compile(r'\b(?:Count|Trend|Rate|Gauge)\("([a-z_]+)"')
SAMPLED = re.compile(r'"((?:target|host|generator|monitor_pg)_[a-z_]+)"')


def catalogue():
    with open(os.path.join(ROOT, "src/metrics/catalog.cc")) as f:
        text = f.read()
    return [(m[1], m[2].lower(), UNITS[m[3]], m[4] + (m[5] or "")) for m in ENTRY.finditer(text)]


def recorded_names():
    names = {}
    for base, _, files in os.walk(os.path.join(ROOT, "src")):
        for name in files:
            if not name.endswith(".cc") or name.endswith("_test.cc"):
                continue
            path = os.path.join(base, name)
            with open(path) as f:
                text = f.read()
            found = set(RECORDED.findall(text))
            if "/monitor/" in path or "/live/" in path or "/engine/" in path:
                found |= set(SAMPLED.findall(text))
            for n in found:
                names.setdefault(n, os.path.relpath(path, ROOT))
    return names


def documented():
    with open(os.path.join(ROOT, "docs/metrics.md")) as f:
        return [tuple(c.strip().strip("`") for c in line.strip().strip("|").split("|"))
                for line in f if line.startswith("| `")]


def loader_keys():
    """Every key the loader accepts: the lists it checks maps against, its step kinds and
    its executors' names."""
    text = ""
    for name in sorted(os.listdir(os.path.join(ROOT, "src/scenario"))):
        if name.startswith("loader") and name.endswith(".cc") and not name.endswith("_test.cc"):
            with open(os.path.join(ROOT, "src/scenario", name)) as f:
                text += f.read()
    lists = [m.group(1) for m in re.finditer(r"CheckKeys\((.*?)\);", text, re.S)]
    lists += [m.group(1) for m in re.finditer(r"\b(?:common|own|kKinds) = \{([^}]*)\}", text)]
    keys = set()
    for body in lists:
        for inner in re.findall(r"\{([^{}]*)\}", body) or [body]:
            keys |= set(re.findall(r'"([a-z_][a-z0-9_]*)"', inner))
    keys |= set(re.findall(r'\{"([a-z]+(?:-[a-z]+)+)", ExecutorKind::', text))
    return keys


class Catalogue(unittest.TestCase):
    def test_every_key_the_loader_accepts_is_documented(self):
        keys = loader_keys()
        self.assertGreater(len(keys), 100)
        with open(os.path.join(ROOT, "docs/test-definition.md")) as f:
            doc = f.read()
        self.assertNotIn("../shared", doc)
        self.assertEqual(sorted(k for k in keys if f"`{k}`" not in doc and f"`{k}:" not in doc), [])

    def test_every_recorded_metric_is_in_it(self):
        known = {name for name, *_ in catalogue()}
        self.assertGreater(len(known), 40)
        missing = {n: where for n, where in recorded_names().items() if n not in known}
        self.assertEqual(missing, {})

    def test_the_docs_list_exactly_it(self):
        self.assertEqual([d[:3] for d in documented()], [(n, t, u) for n, t, u, _ in catalogue()])

    def test_a_threshold_may_name_any_of_it(self):
        """iteration_start_lag, generator_rss, capture_failures, host_net_rx, ... were
        recorded and printed but refused as thresholds ("unknown metric")."""
        aggregate = {"counter": "count>=0", "rate": "rate>=0", "trend": "max>=0", "gauge": "value>=0"}
        lines = "\n".join(f'  {n}: ["{aggregate[t]}"]' for n, t, _, _ in catalogue())
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.yaml")
            with open(path, "w") as f:
                f.write(textwrap.dedent("""\
                    name: every metric
                    target: http://127.0.0.1:9
                    monitor: { postgres: { url: "postgres://loadcell@127.0.0.1:9/x" } }
                    scenarios:
                      s: { executor: shared-iterations, vus: 1, iterations: 1, flow: [ { request: { url: / } } ] }
                    thresholds:
                    """) + lines + "\n")
            p = subprocess.run([LOADCELL, "validate", path], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(f"{len(catalogue())} thresholds", p.stdout)


if __name__ == "__main__":
    unittest.main()
