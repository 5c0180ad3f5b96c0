"""Resource monitoring from /proc (`--monitor-pid`, `monitor:` by name with children): the
sampled gauges agree with what /proc says about the same processes, go into the series,
the report and thresholds; the run's self-check flags dropped iterations."""
import json
import os
import subprocess
import tempfile
import textwrap
import unittest

from harness import LOADCELL, Target, run_cli

TEST = """
name: monitor-test
target: ${TARGET}
MONITOR
scenarios:
  api:
    executor: constant-vus
    vus: 4
    duration: 3s
    flow:
      - request: { name: health, url: /health }
thresholds:
  THRESHOLDS
"""


def write(d, monitor="", thresholds='http_req_failed: ["rate==0"]'):
    path = os.path.join(d, "test.yaml")
    with open(path, "w") as f:
        f.write(TEST.replace("MONITOR", monitor).replace("THRESHOLDS", thresholds))
    return path


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


class Monitor(unittest.TestCase):
    def test_monitor_pid_matches_proc(self):
        d = tempfile.mkdtemp(prefix="loadcell-mon-")
        with Target("--threads", "3") as t:
            pid = t.proc.pid
            path = write(d, thresholds='target_threads: ["max==4"]\n  "target_cpu": ["max<1"]')
            p = subprocess.run([LOADCELL, "run", path, "-e", f"TARGET={t.url.rstrip('/')}", "-q", "--monitor-pid",
                                str(pid), "--out", f"{d}/r.json", "--report", f"{d}/r.html"],
                               capture_output=True, text=True, timeout=60)
            threads = proc_status(pid, "Threads")
            rss_kib = proc_status(pid, "VmRSS")
        # The target is busy: its CPU threshold fails, the thread count one passes.
        self.assertEqual(p.returncode, 99, p.stderr + p.stdout)
        with open(f"{d}/r.json") as f:
            doc = json.load(f)
        th = {t["metric"]: t for t in doc["thresholds"]}
        self.assertEqual(threads, 4)  # main + 3 server threads
        self.assertTrue(th["target_threads"]["ok"], th)
        self.assertEqual(th["target_threads"]["observed"], 4)
        self.assertFalse(th["target_cpu"]["ok"])
        self.assertGreater(th["target_cpu"]["observed"], 1)
        m = doc["metrics"]
        self.assertAlmostEqual(m["target_rss"]["max"] / 1024, rss_kib, delta=rss_kib * 0.2)
        self.assertEqual(m["target_processes"]["max"], 1)
        self.assertGreaterEqual(m["target_fds"]["max"], 4 + 3)  # stdio, listeners, clients
        series = doc["series"]
        self.assertTrue(all("target_cpu" in p["resources"] for p in series[1:]), series[1])
        self.assertTrue(all(p["resources"]["generator_cpu"] >= 0 for p in series[1:]))
        with open(f"{d}/r.html") as f:
            html = f.read()
        self.assertIn('"target_rss":[', html)

    def test_monitor_by_name_includes_children(self):
        d = tempfile.mkdtemp(prefix="loadcell-mon-")
        name = f"lc-mon-{os.getpid()}"
        os.symlink("/bin/sleep", f"{d}/{name}")
        # A parent and its child, both running the uniquely named program.
        parent = subprocess.Popen(["/bin/sh", "-c", f"'{d}/{name}' 30 & exec '{d}/{name}' 31"])
        try:
            with Target() as t:
                path = write(d, monitor=f"monitor:\n  processes: [ {{ name: {name} }} ]")
                p = subprocess.run([LOADCELL, "run", path, "-e", f"TARGET={t.url.rstrip('/')}", "-q", "--out",
                                    f"{d}/r.json"], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(f"{d}/r.json") as f:
                doc = json.load(f)
            self.assertEqual(doc["metrics"]["target_processes"]["max"], 2)
            self.assertEqual(doc["metrics"]["target_threads"]["max"], 2)
        finally:
            parent.kill()
            parent.wait()

    def test_invalid_monitor_is_a_located_error(self):
        d = tempfile.mkdtemp(prefix="loadcell-mon-")
        path = write(d, monitor="monitor:\n  processes: [ { pid: 1, name: x } ]")
        p = run_cli("validate", path, "-e", "TARGET=http://127.0.0.1:1")
        self.assertEqual(p.returncode, 104)
        self.assertIn(f"{path}:5:16:", p.stderr)
        self.assertIn("monitor.processes[0]: give either `pid` or `name`, not both", p.stderr)

    def test_self_check_flags_dropped_iterations(self):
        d = tempfile.mkdtemp(prefix="loadcell-mon-")
        path = os.path.join(d, "t.yaml")
        with open(path, "w") as f:
            f.write(textwrap.dedent("""\
                name: dropped
                target: ${TARGET}
                scenarios:
                  open:
                    executor: constant-arrival-rate
                    rate: 50
                    duration: 2s
                    pre_allocated_vus: 1
                    max_vus: 1
                    flow:
                      - request: { url: /health }
                      - think: 100ms
                """))
        with Target() as t:
            p = subprocess.run([LOADCELL, "run", path, "-e", f"TARGET={t.url.rstrip('/')}", "-q", "--out", f"{d}/r.json"],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("results may understate latency:", p.stdout)
        with open(f"{d}/r.json") as f:
            doc = json.load(f)
        dropped = doc["metrics"]["dropped_iterations"]["count"]
        self.assertGreater(dropped, 50)
        self.assertTrue(any(f"{dropped} iterations were dropped" in m for m in doc["messages"]), doc["messages"])


if __name__ == "__main__":
    unittest.main()
