"""`loadcell proxy`: a TCP proxy between loadcell and the built-in target that injects the
same faults as a test's `faults:`, controlled over its HTTP API while load runs through it."""
import json
import re
import subprocess
import threading
import time
import unittest
import urllib.error
import urllib.request

from harness import LOADCELL, Target, quick, run_cli


class Proxy:
    def __init__(self, upstream_port, *args):
        self.proc = subprocess.Popen([LOADCELL, "proxy", "--listen", "127.0.0.1:0", "--upstream",
                                      f"127.0.0.1:{upstream_port}", "--api", "127.0.0.1:0", "--duration", "120s", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+) .*control API on (http://127\.0\.0\.1:\d+)/faults", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"proxy did not start: {line!r} {self.proc.stderr.read()}")
        self.url = f"http://127.0.0.1:{m.group(1)}"
        self.api = m.group(2)

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.api + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                text = r.read().decode()
                return r.status, json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read().decode() or "null")

    def stop(self):
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=10)
        return out


def median_ms(run):
    return run.metric("http_req_duration")["med"]


class ProxyFaults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.target = Target("--latency", "fixed:2ms")
        cls.proxy = Proxy(cls.target.port)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.target.stop()

    def test_latency_added_and_removed_over_the_api(self):
        base = quick(self.proxy.url + "/health", "-c", "4", "-t", "1", "-d", "1s")
        self.assertEqual(base.counters["failed"], 0)
        self.assertLess(median_ms(base), 10)
        status, fault = self.proxy.call("POST", "/faults", {"kind": "latency", "latency": "50ms", "jitter": "5ms"})
        self.assertEqual(status, 201, fault)
        self.assertEqual((fault["kind"], fault["latency_ms"], fault["active"]), ("latency", 50.0, True))
        status, listed = self.proxy.call("GET", "/faults")
        self.assertIn(fault["id"], [f["id"] for f in listed["faults"]])
        slow = quick(self.proxy.url + "/health", "-c", "4", "-t", "1", "-d", "1s")
        # Each response reaches the client 50 ± 5 ms later: the median moves by ~50 ms.
        self.assertGreater(median_ms(slow) - median_ms(base), 44)
        self.assertLess(median_ms(slow) - median_ms(base), 58)
        self.assertEqual(slow.counters["failed"], 0)
        self.assertEqual(self.proxy.call("DELETE", f"/faults/{fault['id']}")[0], 204)
        self.assertEqual(self.proxy.call("DELETE", f"/faults/{fault['id']}")[0], 404)
        again = quick(self.proxy.url + "/health", "-c", "4", "-t", "1", "-d", "1s")
        self.assertLess(median_ms(again), 10)

    def test_blackhole_stalls_then_traffic_flows_again(self):
        status, fault = self.proxy.call("POST", "/faults", {"kind": "blackhole"})
        self.assertEqual(status, 201, fault)
        _, before = self.proxy.call("GET", "/stats")
        result = {}
        run = threading.Thread(target=lambda: result.update(
            r=quick(self.proxy.url + "/health", "-c", "2", "-t", "1", "-d", "4s", "--timeout", "300ms")))
        run.start()
        # Each request lost in the blackhole times out and its connection is replaced: once
        # the proxy has seen 2 connections more than quick's 2, both have timed out.
        deadline = time.monotonic() + 30
        while self.proxy.call("GET", "/stats")[1]["connections"] < before["connections"] + 4:
            self.assertLess(time.monotonic(), deadline, "no timeout through the blackhole")
            time.sleep(0.05)
        self.assertEqual(self.proxy.call("DELETE", f"/faults/{fault['id']}")[0], 204)
        run.join(timeout=60)
        c = result["r"].counters
        self.assertGreaterEqual(c["errors"].get("timeout", 0), 2, c)
        self.assertGreater(c["responses"], 100, c)  # after the blackhole, requests flow again

    def test_reset_with_probability(self):
        status, fault = self.proxy.call("POST", "/faults", {"kind": "reset", "probability": 0.5})
        self.assertEqual(status, 201, fault)
        r = quick(self.proxy.url + "/health", "-c", "4", "-t", "1", "-d", "1s")
        self.proxy.call("DELETE", f"/faults/{fault['id']}")
        c = r.counters
        self.assertGreater(c["errors"].get("reset", 0), 50, c)
        self.assertGreater(c["responses"], 50, c)
        status, stats = self.proxy.call("GET", "/stats")
        self.assertGreater(stats["resets"], 50)

    def test_api_errors_say_what_is_wrong(self):
        status, body = self.proxy.call("POST", "/faults", {"kind": "latncy"})
        self.assertEqual(status, 400)
        self.assertIn("`latncy` is not blackhole, latency, reset or bandwidth", body["error"])
        status, body = self.proxy.call("POST", "/faults", {"kind": "latency"})
        self.assertEqual((status, body["error"]), (400, "a latency fault needs latency"))
        status, body = self.proxy.call("POST", "/faults", {"kind": "reset", "probability": 3})
        self.assertEqual(status, 400)
        self.assertIn("probability", body["error"])
        self.assertEqual(self.proxy.call("DELETE", "/faults/999")[0], 404)


class ProxyCommandLine(unittest.TestCase):
    def test_bandwidth_from_the_command_line(self):
        with Target("--body-size", "200000") as big:
            proxy = Proxy(big.port, "--fault", "kind=bandwidth,rate=100KB")
            try:
                start = time.monotonic()
                with urllib.request.urlopen(proxy.url + "/big", timeout=30) as r:
                    body = r.read()
                elapsed = time.monotonic() - start
            finally:
                out = proxy.stop()
        self.assertEqual(len(body), 200000)
        # 200,000 bytes at 102,400 bytes/s in 100 ms slices: about 1.9 s.
        self.assertGreater(elapsed, 1.7)
        self.assertLess(elapsed, 2.8)
        self.assertIn("1 connections", out)

    def test_bad_arguments_are_named(self):
        for args, msg in ((["--fault", "kind=latency"], "--fault kind=latency: a latency fault needs latency"),
                          (["--fault", "kind=reset,probability=2"], "probability: expected a number in (0, 1]"),
                          (["--fault", "latency"], "`latency`: expected key=value"),
                          (["--fault", "kind=blackhole,colour=red"], "unknown key `colour`")):
            p = run_cli("proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:9", *args)
            self.assertEqual(p.returncode, 104, p.stderr)
            self.assertIn(msg, p.stderr)
        p = run_cli("proxy", "--listen", "127.0.0.1:0", "--upstream", "nowhere")
        self.assertEqual(p.returncode, 104)
        self.assertIn("--upstream: expected HOST:PORT", p.stderr)


if __name__ == "__main__":
    unittest.main()
