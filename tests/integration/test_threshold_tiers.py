"""Thresholds as teams write SLOs, on a real run against the built-in target with an injected
latency fault from 2 s to 4 s: a threshold scoped to a window (`during`) sees only its
seconds; only a critical threshold fails the run (exit 99), warning and info ones are
reported (summary, results, JUnit, summary export) and the run exits 0; `merge` judges the
windows again from the parts' per-second records."""
import json
import os
import subprocess
import tempfile
import textwrap
import unittest

from harness import LOADCELL, Target

TEST = """\
name: tiers
target: {url}
faults:
  - {{ kind: latency, at: 2s, duration: 2s, latency: 150ms }}
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 50
    duration: 6s
    pre_allocated_vus: 20
    flow:
      - request: {{ url: /health }}
thresholds:
  http_req_duration:
{thresholds}
"""


class Tiers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.target = Target("--threads", "1")
        cls.d = tempfile.mkdtemp(prefix="loadcell-tiers-")

    @classmethod
    def tearDownClass(cls):
        cls.target.stop()

    def write(self, name, thresholds):
        path = os.path.join(self.d, name)
        with open(path, "w") as f:
            f.write(TEST.format(url=self.target.url.rstrip("/"),
                                thresholds=textwrap.indent(textwrap.dedent(thresholds).strip(), "    ")))
        return path

    def run_test(self, path, *args):
        out = path + ".json"
        p = subprocess.run([LOADCELL, "run", path, "-q", "--out", out, *args], capture_output=True, text=True,
                           timeout=60)
        with open(out) as f:
            return p, json.load(f)

    def test_a_warning_during_the_fault_is_reported_and_the_run_passes(self):
        path = self.write("warn.yaml", """
            - { threshold: "p(95)<100", severity: warning, during: { from: 2s, to: 4s } }
            - { threshold: "p(95)<100", during: { from: 5s } }
            - "max<1000"
            """)
        junit = path + ".xml"
        export = path + ".summary.json"
        p, doc = self.run_test(path, "--summary-export", export)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        subprocess.run([LOADCELL, "report", path + ".json", "--junit", junit], check=True, timeout=30)
        by = {(t["expr"], t.get("during", {}).get("from_s")): t for t in doc["thresholds"]}
        spike = by[("p(95)<100", 2.0)]
        self.assertEqual((spike["ok"], spike["severity"], spike["during"]), (False, "warning", {"from_s": 2.0, "to_s": 4.0}))
        self.assertGreater(spike["observed"], 140)          # the fault's 150 ms, seen in its window
        after = by[("p(95)<100", 5.0)]
        self.assertTrue(after["ok"], after)
        self.assertLess(after["observed"], 50)                # after it: the target's own latency
        self.assertRegex(p.stdout, r"! http_req_duration: p\(95\)<100 during 2s-4s \[warning\] \(observed 1\d\d")
        self.assertRegex(p.stdout, r"✓ http_req_duration: p\(95\)<100 from 5s \(observed")
        with open(junit) as f:
            xml = f.read()
        self.assertIn('<testsuite name="thresholds" tests="3" failures="0"', xml)
        self.assertIn("warning threshold crossed: observed 1", xml)
        with open(export) as f:
            exported = json.load(f)
        self.assertEqual(exported["metrics"]["http_req_duration"]["thresholds"]["p(95)<100 during 2s-4s [warning]"],
                         {"ok": False, "severity": "warning"})

    def test_a_critical_one_fails_the_run(self):
        path = self.write("crit.yaml", """
            - { threshold: "p(95)<100", during: { from: 2s, to: 4s } }
            - { threshold: "p(95)<100", severity: info, during: { to: 2s } }
            """)
        p, doc = self.run_test(path)
        self.assertEqual(p.returncode, 99, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"✗ http_req_duration: p\(95\)<100 during 2s-4s \(observed")
        self.assertRegex(p.stdout, r"✓ http_req_duration: p\(95\)<100 during 0s-2s \[info\]")

    def test_merge_judges_the_windows_from_the_parts_seconds(self):
        path = self.write("parts.yaml", """
            - { threshold: "p(95)<100", severity: warning, during: { from: 2s, to: 4s } }
            - { threshold: "p(95)<100", during: { from: 5s } }
            """)
        procs = [subprocess.Popen([LOADCELL, "run", path, "-q", "--segment", f"{k}/2", "--out", f"{path}.{k}.ndjson"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in (1, 2)]
        for p in procs:
            p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0)
        m = subprocess.run([LOADCELL, "merge", f"{path}.1.ndjson", f"{path}.2.ndjson", "-q", "--out", f"{path}.m.json"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(m.returncode, 0, m.stdout + m.stderr)
        with open(f"{path}.m.json") as f:
            doc = json.load(f)
        spike, after = doc["thresholds"]
        self.assertEqual((spike["ok"], spike["severity"], spike["no_data"]), (False, "warning", False))
        self.assertGreater(spike["observed"], 140)
        self.assertEqual((after["ok"], after["no_data"]), (True, False))
        # From .json parts the windows cannot be judged: no data, and a note saying why.
        for k in (1, 2):
            subprocess.run([LOADCELL, "run", path, "-q", "--segment", f"{k}/2", "--out", f"{path}.{k}.json"],
                           capture_output=True, timeout=60)
        m = subprocess.run([LOADCELL, "merge", f"{path}.1.json", f"{path}.2.json", "-q", "--out", f"{path}.j.json"],
                           capture_output=True, text=True, timeout=60)
        with open(f"{path}.j.json") as f:
            doc = json.load(f)
        self.assertTrue(all(t["no_data"] for t in doc["thresholds"]), doc["thresholds"])
        self.assertTrue(any("merge .ndjson parts" in msg for msg in doc["messages"]), doc["messages"])

    def test_mistakes_are_named(self):
        cases = [
            ('- { threshold: "p(95)<100", severity: minor }',
             "thresholds.http_req_duration[0].severity: unknown severity `minor` (critical, warning or info)"),
            ('- { threshold: "p(95)<100", during: { from: 4s, to: 2s } }',
             "thresholds.http_req_duration[0].during.to: `to` (2s) must be after `from` (4s)"),
            ('- { threshold: "p(95)<100", during: { since: 4s } }',
             "thresholds.http_req_duration[0].during.since: unknown key `since`"),
            ('- { threshold: "p(95)<100", abort_on_fail: true, during: { from: 4s } }',
             "thresholds.http_req_duration[0]: abort_on_fail cannot be combined with `during`"),
            ('- "growth<5%/h"', '"growth<5%/h" does not apply to this metric (use p(N), avg, med, min, max)'),
        ]
        for text, want in cases:
            with self.subTest(want=want):
                p = subprocess.run([LOADCELL, "validate", self.write("bad.yaml", text)], capture_output=True, text=True,
                                   timeout=30)
                self.assertEqual(p.returncode, 104, p.stdout + p.stderr)
                self.assertIn(want, p.stderr)


if __name__ == "__main__":
    unittest.main()
