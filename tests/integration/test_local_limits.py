"""The generator's own limits: out of file descriptors (ulimit -n) or of ephemeral ports.
Reported once, naming the limit and the connections reached, not as thousands of
identical errors; the run goes on and ends normally."""
import os
import re
import resource
import shutil
import subprocess
import tempfile
import unittest

from harness import LOADCELL, Nginx, Target, free_port, load_json, quick_counters


def nofile(n):
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))


class FileDescriptors(unittest.TestCase):
    def test_quick_reports_the_limit_once(self):
        with Target() as t:
            d = tempfile.mkdtemp(prefix="loadcell-fd-")
            p = subprocess.run([LOADCELL, "quick", t.url, "-c", "400", "-t", "1", "-d", "1s", "--out", f"{d}/r.json"],
                               capture_output=True, text=True, timeout=60, preexec_fn=nofile(200))
        self.assertEqual(p.returncode, 0, p.stderr)
        r = load_json(f"{d}/r.json")
        warnings = [w for w in r["messages"] if "file descriptors" in w]
        self.assertEqual(len(warnings), 1, r["messages"])
        m = re.search(r"out of file descriptors: (\d+) connection attempts failed \(Too many open files\) once "
                      r"(\d+) connections were open; the limit is ulimit -n = 200", warnings[0])
        self.assertIsNotNone(m, warnings[0])
        # Every connect error was this one, and it is counted, not printed each time.
        self.assertEqual(int(m.group(1)), quick_counters(r)["errors"]["local_limit"])
        self.assertGreater(int(m.group(1)), 0)
        self.assertLessEqual(int(m.group(2)), 200)
        self.assertGreater(int(m.group(2)), 150)  # the rest are the process's own files
        self.assertEqual((p.stdout + p.stderr).count("Too many open files"), 1)
        self.assertGreater(quick_counters(r)["responses"], 0)  # the connections it had did work

    def test_run_refuses_a_plan_beyond_the_limit_and_reports_one_reached_anyway(self):
        d = tempfile.mkdtemp(prefix="loadcell-fd-")
        with open(f"{d}/t.yaml", "w") as f:
            f.write("scenarios:\n  many:\n    executor: constant-vus\n    vus: 300\n    duration: 1s\n"
                    "    flow:\n      - request: { url: \"${TARGET}\" }\n")
        with Target() as t:
            # 300 VUs cannot each hold a connection under 200 descriptors: refused before it starts (#17).
            p = subprocess.run([LOADCELL, "run", f"{d}/t.yaml", "-e", f"TARGET={t.url}", "-q", "--out", f"{d}/r.json"],
                               capture_output=True, text=True, timeout=60, preexec_fn=nofile(200))
            self.assertEqual(p.returncode, 104, p.stderr)
            self.assertIn("300 VUs at the peak need 364 open files (a connection each), and this process may open 200 "
                          "(ulimit -n): at most 136 VUs fit on this generator", p.stderr)
            # 130 VUs fit, but each also opens a WebSocket: the limit is reached mid-run, and reported once.
            with open(f"{d}/t.yaml", "w") as f:
                f.write("target: ${TARGET}\nscenarios:\n  many:\n    executor: constant-vus\n    vus: 130\n    duration: 2s\n"
                        "    flow:\n      - request: { url: / }\n"
                        "      - ws: { url: /ws/echo, steps: [ { send: hi }, { receive: { timeout: 2s } }, { think: 500ms } ] }\n")
            p = subprocess.run([LOADCELL, "run", f"{d}/t.yaml", "-e", f"TARGET={t.url.rstrip('/')}", "-q", "--out", f"{d}/r.json"],
                               capture_output=True, text=True, timeout=60, preexec_fn=nofile(200))
        self.assertEqual(p.returncode, 0, p.stderr)
        r = load_json(f"{d}/r.json")
        messages = [m for m in r["messages"] if "file descriptors" in m]
        self.assertEqual(len(messages), 1)
        self.assertIn("the limit is ulimit -n = 200", messages[0])
        self.assertEqual((p.stdout + p.stderr).count("Too many open files"), 1)
        # The sessions that could not get a descriptor failed as the generator's limit, one
        # vocabulary with HTTP/1.1's: local_limit, not a connect error of the target.
        ws_errors = {}
        for h in r["histograms"]:
            if h["metric"] == "ws_errors":
                ws_errors[h["tags"]["kind"]] = ws_errors.get(h["tags"]["kind"], 0) + h["count"]
        self.assertGreater(ws_errors.get("local_limit", 0), 0, ws_errors)
        self.assertEqual(ws_errors.get("connect", 0), 0, ws_errors)

    def test_http2_counts_the_limit_as_local_limit(self):
        # HTTP/2 connections that cannot get a descriptor fail as local_limit, as HTTP/1.1's do.
        with Nginx(h2=True) as n:
            d = tempfile.mkdtemp(prefix="loadcell-fd-")
            p = subprocess.run([LOADCELL, "quick", n.url, "--h2", "--streams", "1", "-c", "300", "-t", "1", "-d", "1s",
                                "--out", f"{d}/r.json"],
                               capture_output=True, text=True, timeout=60, preexec_fn=nofile(200))
        self.assertEqual(p.returncode, 0, p.stderr)
        errors = quick_counters(load_json(f"{d}/r.json"))["errors"]
        self.assertGreater(errors["local_limit"], 0, errors)
        self.assertEqual(errors["connect"], 0, errors)


class BackOff(unittest.TestCase):
    """A VU whose every step fails at once waits 10 ms, doubling to 1 s, before its next
    iteration: 2 s against a dead target are about 8 iterations per VU, not thousands (and
    synchronous failures no longer recurse until the stack overflows)."""

    def check(self, flow, metric, extra=""):
        d = tempfile.mkdtemp(prefix="loadcell-backoff-")
        with open(f"{d}/t.yaml", "w") as f:
            f.write(extra + "scenarios:\n  dead:\n    executor: constant-vus\n    vus: 5\n    duration: 2s\n"
                    f"    flow:\n      - {flow}\n")
        p = subprocess.run([LOADCELL, "run", f"{d}/t.yaml", "-q", "--summary-export", f"{d}/s.json"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        count = load_json(f"{d}/s.json")["metrics"][metric]["count"]
        # 10+20+40+...+640 ms = 1.27 s, then 1 s steps: 8 or 9 iterations per VU in 2 s.
        self.assertGreaterEqual(count, 5 * 7)
        self.assertLessEqual(count, 5 * 10)

    def test_http_to_a_dead_port(self):
        port = free_port()
        self.check(f'request: {{ url: "http://127.0.0.1:{port}/" }}', "http_reqs")

    def test_sql_to_a_dead_database(self):
        port = free_port()
        self.check("sql: { db: main, query: 'select 1' }", "sql_queries",
                   f"databases:\n  main: {{ url: 'postgres://u@127.0.0.1:{port}/db', pool: 2 }}\n")

    def test_out_of_descriptors_does_not_overflow_the_stack(self):
        # Synchronous failures (socket() itself fails): this run used to crash (SIGSEGV).
        with Target() as t:
            p = subprocess.run([LOADCELL, "quick", t.url, "-c", "50", "-t", "1", "-d", "500ms"], capture_output=True,
                               text=True, timeout=60, preexec_fn=nofile(20))
        self.assertEqual(p.returncode, 0, p.stderr)


class EphemeralPorts(unittest.TestCase):
    def test_port_exhaustion_in_a_namespace_with_20_ports(self):
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            self.skipTest("needs root and unshare for a network namespace")
        d = tempfile.mkdtemp(prefix="loadcell-ports-")
        script = f"""
            set -e
            ip link set lo up
            sysctl -qw net.ipv4.ip_local_port_range="40000 40019"
            {LOADCELL} target --listen 127.0.0.1:18182 > /dev/null 2>&1 &
            trap "kill $!" EXIT
            python3 -c "import socket,time
            for _ in range(200):
                try: socket.create_connection(('127.0.0.1', 18182)).close(); break
                except OSError: time.sleep(0.05)"
            {LOADCELL} quick http://127.0.0.1:18182/ -c 60 -t 1 -d 1s --out {d}/r.json
        """
        script = "\n".join(line[12:] if line.startswith(" " * 12) else line for line in script.splitlines())
        p = subprocess.run(["unshare", "-n", "bash", "-c", script], capture_output=True, text=True, timeout=60)
        if "unshare failed" in p.stderr or "Operation not permitted" in p.stderr:
            self.skipTest(p.stderr.strip())
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        r = load_json(f"{d}/r.json")
        warnings = [w for w in r["messages"] if "local ports" in w]
        self.assertEqual(len(warnings), 1, r["messages"])
        self.assertRegex(warnings[0], r"out of local ports: \d+ connection attempts failed \(Cannot assign requested "
                                      r"address\) once \d+ connections were open; the ephemeral port range is "
                                      r"40000-40019 \(20 ports\)")
        self.assertEqual(p.stdout.count("out of local ports"), 1)


if __name__ == "__main__":
    unittest.main()
