"""Run history: `run --history` records each run in SQLite; `loadcell history` lists them
per test and marks the change point where the target got 50% slower."""
import json
import os
import sqlite3
import subprocess
import tempfile
import unittest

from harness import LOADCELL, Target, run_cli

TEST = """
name: NAME
target: ${TARGET}
scenarios:
  api:
    executor: constant-vus
    vus: 2
    duration: 2s
    flow:
      - request: { name: health, url: /health }
"""


class History(unittest.TestCase):
    def test_records_and_finds_the_change(self):
        d = tempfile.mkdtemp(prefix="loadcell-hist-")
        db = f"{d}/history.db"
        for name in ("nightly", "other"):
            with open(f"{d}/{name}.yaml", "w") as f:
                f.write(TEST.replace("NAME", name))

        def run(target, name="nightly"):
            p = subprocess.run([LOADCELL, "run", f"{d}/{name}.yaml", "-e", f"TARGET={target.url.rstrip('/')}", "-q",
                                "--history", db], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)

        with Target("--latency", "normal:20ms,1ms") as t:
            for _ in range(4):
                run(t)
            run(t, "other")
        with Target("--latency", "normal:20ms,1ms", "--slowdown", "1.5") as t:
            for _ in range(4):
                run(t)
        with sqlite3.connect(db) as conn:
            self.assertEqual(conn.execute("PRAGMA user_version").fetchone()[0], 1)
            self.assertEqual(conn.execute("SELECT count(*) FROM runs").fetchone()[0], 9)
        p = run_cli("history", "--db", db, "--test", "nightly", "--json", f"{d}/h.json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("◆ change point: p95", p.stdout)
        with open(f"{d}/h.json") as f:
            doc = json.load(f)
        self.assertEqual(len(doc), 1)
        self.assertEqual(len(doc[0]["runs"]), 8)
        cps = doc[0]["change_points"]
        self.assertEqual(len(cps), 1, cps)
        self.assertEqual(cps[0]["index"], 4)
        self.assertGreater(cps[0]["after"] / cps[0]["before"], 1.3)
        self.assertTrue(all(r["passed"] for r in doc[0]["runs"]))
        p = run_cli("history", "--db", db)
        self.assertIn("other — 1 runs", p.stdout)
        self.assertIn("nightly — 8 runs", p.stdout)

    def test_errors(self):
        d = tempfile.mkdtemp(prefix="loadcell-hist-")
        p = run_cli("history", "--db", f"{d}/none.db")
        self.assertEqual(p.returncode, 1)
        self.assertIn("no such history", p.stderr)
        p = run_cli("history", "--db", f"{d}/x.db", "--metric", "p42")
        self.assertEqual(p.returncode, 104)


if __name__ == "__main__":
    unittest.main()
