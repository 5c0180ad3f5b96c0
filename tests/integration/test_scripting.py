"""Lua in a test, against the built-in target and a real nginx: a poll-until-ready flow
(`while` on the last response's status, its duration `record`ed into a trend of the test's
own), `while` ending by max_iterations and timeout (counted, not failed), login once per
VU (`vu_init`: nginx's access log shows exactly one login per VU), a custom rate with a
failing threshold (exit 99), per-iteration tenants (all 50 seen), the sandbox (io, os,
require "ffi", bytecode), and a spinning script cut within its budget while the other VUs
keep their rate."""
import json
import os
import subprocess
import tempfile
import textwrap
import time
import unittest

from harness import LOADCELL, NGINX_HEAD, Target, free_port, run_yaml, wait_for_port


def series(results, metric):
    return [h for h in results["histograms"] if h["metric"] == metric]


def run_dir(yaml_text, files=None, *args, timeout=120):
    """`loadcell run` of a test in its own directory (with its script files); returns
    (process, summary, results)."""
    d = tempfile.mkdtemp(prefix="loadcell-lua-")
    for name, text in (files or {}).items():
        with open(os.path.join(d, name), "w") as f:
            f.write(textwrap.dedent(text))
    path = os.path.join(d, "test.yaml")
    with open(path, "w") as f:
        f.write(textwrap.dedent(yaml_text))
    summary, results = os.path.join(d, "summary.json"), os.path.join(d, "results.json")
    p = subprocess.run([LOADCELL, "run", path, "-q", "--summary-export", summary, "--out", results, *args],
                       capture_output=True, text=True, timeout=timeout)
    def load(f):
        if not os.path.exists(f):
            return None
        with open(f) as fh:
            return json.load(fh)
    return p, load(summary), load(results)


class PollUntilReady(unittest.TestCase):
    def test_poll_records_the_time_until_ready(self):
        with Target("-t", "1") as t:
            p, s, r = run_dir(f"""\
                target: {t.url.rstrip('/')}
                metrics: {{ job_ready_ms: trend, job_completed: rate }}
                scenarios:
                  jobs:
                    executor: per-vu-iterations
                    vus: 4
                    iterations: 5
                    flow:
                      - request:
                          method: POST
                          url: /jobs?ready_ms=300
                          capture: [{{ json: $.id, as: job }}]
                      - set: {{ submitted: "{{{{ now_ms() }}}}" }}
                      - while:
                          name: poll
                          cond: status == 202
                          max_iterations: 100
                          steps:
                            - think: 20ms
                            - request: {{ url: "/jobs/{{{{ job }}}}", name: poll }}
                      - if:
                          cond: status == 200 and json.state == "done"
                          then:
                            - record: {{ metric: job_ready_ms, value: "now_ms() - submitted", tags: {{ kind: async }} }}
                      - record: {{ metric: job_completed, value: "status == 200" }}
                thresholds:
                  job_ready_ms: ["p(50)>=300", "max<600"]
                  "job_ready_ms{{kind:async}}": ["max<600"]
                  job_completed: ["rate==1"]
                """)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        ready = s["metrics"]["job_ready_ms"]
        self.assertEqual(sum(h["count"] for h in series(r, "job_ready_ms")), 20)
        self.assertEqual({h["tags"]["kind"] for h in series(r, "job_ready_ms")}, {"async"})
        # Ready 300 ms after submission; the poll sees it within one think (20 ms) and a request.
        self.assertGreaterEqual(ready["min"], 299)
        self.assertLess(ready["max"], 600)
        self.assertEqual(s["metrics"]["job_completed"]["passes"], 20)
        exits = series(r, "while_exits")
        self.assertEqual({h["tags"]["reason"] for h in exits}, {"condition"})
        self.assertEqual(sum(h["count"] for h in exits), 20)
        self.assertEqual(s["metrics"]["http_req_failed"]["passes"], 0)

    def test_while_ends_by_max_iterations_and_timeout_without_failures(self):
        with Target("-t", "1") as t:
            p, s, r = run_dir(f"""\
                target: {t.url.rstrip('/')}
                scenarios:
                  capped:
                    executor: per-vu-iterations
                    vus: 2
                    iterations: 2
                    flow:
                      - request: {{ method: POST, url: "/jobs?ready_ms=60000", capture: [{{ json: $.id, as: job }}] }}
                      - while:
                          name: by count
                          cond: status ~= 200
                          max_iterations: 3
                          steps: [ {{ request: {{ url: "/jobs/{{{{ job }}}}", name: count poll }} }} ]
                      - while:
                          name: by time
                          cond: status ~= 200
                          timeout: 150ms
                          steps:
                            - think: 40ms
                            - request: {{ url: "/jobs/{{{{ job }}}}", name: time poll }}
                """)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        exits = {(h["tags"]["name"], h["tags"]["reason"]): h["count"] for h in series(r, "while_exits")}
        self.assertEqual(exits, {("by count", "max_iterations"): 4, ("by time", "timeout"): 4})
        polls = {h["tags"]["name"]: h["count"] for h in series(r, "http_reqs")}
        self.assertEqual(polls["count poll"], 12)  # 3 passes x 4 iterations
        self.assertTrue(12 <= polls["time poll"] <= 20, polls)  # 150 ms / 40 ms: 3-5 passes
        self.assertEqual(s["metrics"]["http_req_failed"]["passes"], 0)
        self.assertEqual(s["metrics"]["iterations"]["count"], 4)


NGINX_LOGIN = NGINX_HEAD + """\
    log_format uri '$request_uri $http_authorization';
    server {{
        listen 127.0.0.1:{port};
        access_log {dir}/access.log uri;
        location = /auth/login {{ default_type application/json; return 200 '{{"token":"tok-$connection"}}'; }}
        location /items {{
            if ($http_authorization !~ "^Bearer tok-") {{ return 401; }}
            return 200 '{{"items":[]}}';
        }}
    }}
}}
"""


class LoginOncePerVu(unittest.TestCase):
    def test_vu_init_logs_in_exactly_once_per_vu(self):
        d = tempfile.mkdtemp(prefix="loadcell-nginx-")
        port = free_port()
        with open(f"{d}/nginx.conf", "w") as f:
            f.write(NGINX_LOGIN.format(dir=d, port=port))
        nginx = subprocess.Popen(["nginx", "-p", d, "-c", f"{d}/nginx.conf", "-e", f"{d}/error.log"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for_port(port)
            p, s, _ = run_dir(f"""\
                target: http://127.0.0.1:{port}
                scenarios:
                  api:
                    executor: constant-vus
                    vus: 7
                    duration: 2s
                    vu_init:
                      - request:
                          name: login
                          method: POST
                          url: /auth/login
                          json: {{ user: "u{{{{ vu }}}}" }}
                          capture: [{{ json: $.token, as: token }}]
                    flow:
                      - request: {{ url: /items, headers: {{ Authorization: "Bearer {{{{ token }}}}" }}, check: [{{ status: 200 }}] }}
                      - think: 20ms
                """)
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(f"{d}/access.log") as f:
            lines = f.read().splitlines()
        logins = [ln for ln in lines if ln.startswith("/auth/login")]
        items = [ln for ln in lines if ln.startswith("/items")]
        self.assertEqual(len(logins), 7)
        self.assertGreater(len(items), 7 * 20)
        self.assertTrue(all(" Bearer tok-" in ln for ln in items))
        self.assertEqual(s["metrics"]["checks"]["fails"], 0)
        # The iterations after the first do not log in again: logins are 7 of all requests.
        self.assertEqual(s["metrics"]["http_reqs"]["count"], len(lines))


class CustomMetricsAndTags(unittest.TestCase):
    def test_a_custom_rate_under_its_threshold_fails_the_run(self):
        with Target("-t", "1") as t:
            p, s = run_yaml(f"""\
                target: {t.url.rstrip('/')}
                metrics: {{ cache_hit_rate: rate, cache_lookups: counter, cache_size: gauge }}
                scenarios:
                  s:
                    executor: shared-iterations
                    vus: 2
                    iterations: 40
                    flow:
                      - request: {{ url: /health }}
                      - record: {{ metric: cache_hit_rate, value: "iteration % 2 == 0" }}
                      - record: {{ metric: cache_lookups, value: 3 }}
                      - record: {{ metric: cache_size, value: "1024 * 1.5" }}
                thresholds:
                  cache_hit_rate: ["rate>0.8"]
                  cache_lookups: ["count==120"]
                """)
        self.assertEqual(p.returncode, 99, p.stdout + p.stderr)
        self.assertIn("✗ cache_hit_rate: rate>0.8", p.stdout)
        self.assertIn("✓ cache_lookups: count==120", p.stdout)
        self.assertEqual(s["metrics"]["cache_hit_rate"]["fails"] + s["metrics"]["cache_hit_rate"]["passes"], 40)
        self.assertEqual(s["metrics"]["cache_size"]["value"], 1536)

    def test_unknown_custom_metric_is_a_load_error(self):
        p, _ = run_yaml("""\
            target: http://127.0.0.1:1
            metrics: { cache_hit_rate: rate }
            scenarios:
              s: { executor: shared-iterations, flow: [ { record: { metric: cache_hit_rte, value: "true" } } ] }
            thresholds:
              cache_hit_rte: ["rate>0.8"]
            """)
        self.assertEqual(p.returncode, 104)
        self.assertIn("`cache_hit_rte` is not one of the test's `metrics` (did you mean `cache_hit_rate`?)", p.stderr)

    def test_every_tenant_of_the_iteration_tags_is_seen(self):
        with Target("-t", "1") as t:
            p, s, r = run_dir(f"""\
                target: {t.url.rstrip('/')}
                scenarios:
                  tenants:
                    executor: shared-iterations
                    vus: 8
                    iterations: 500
                    tags: {{ tenant: "t{{{{ iteration_in_test % 50 }}}}" }}
                    flow: [ {{ request: {{ url: /health }} }} ]
                """, None, "--threads", "2")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        per_tenant = {}
        for h in series(r, "http_reqs"):
            per_tenant[h["tags"]["tenant"]] = per_tenant.get(h["tags"]["tenant"], 0) + h["count"]
        self.assertEqual(set(per_tenant), {f"t{i}" for i in range(50)})
        self.assertEqual(set(per_tenant.values()), {10})  # iteration_in_test is unique over both workers


class Sandbox(unittest.TestCase):
    def validate(self, cond, files=None):
        d = tempfile.mkdtemp(prefix="loadcell-lua-")
        for name, text in (files or {}).items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        with open(os.path.join(d, "test.yaml"), "w") as f:
            f.write(textwrap.dedent(f"""\
                target: http://127.0.0.1:1
                {"script: s.lua" if files else ""}
                scenarios:
                  s:
                    executor: shared-iterations
                    flow: [ {{ if: {{ cond: '{cond}', then: [ {{ think: 1ms }} ] }} }} ]
                """))
        return subprocess.run([LOADCELL, "validate", os.path.join(d, "test.yaml")], capture_output=True, text=True)

    def test_io_os_and_syntax_are_caught_by_validate(self):
        p = self.validate('io.open("/etc/passwd")')
        self.assertEqual(p.returncode, 104)
        self.assertIn("test.yaml:6:28: scenarios.s.flow[0].if.cond: `io` is not available to scripts", p.stderr)
        p = self.validate('os.execute("true")')
        self.assertEqual(p.returncode, 104)
        self.assertIn("`os` is not available to scripts", p.stderr)
        p = self.validate("status == == 200")
        self.assertEqual(p.returncode, 104)
        self.assertIn("test.yaml:6:38: scenarios.s.flow[0].if.cond: Lua expression: unexpected symbol near '=='",
                      p.stderr)
        p = self.validate("stauts == 200")
        self.assertIn("names unknown `stauts`", p.stderr)
        self.assertIn("did you mean `status`?", p.stderr)
        p = self.validate("f()", {"s.lua": "function f()\n  return x y\nend\n"})
        self.assertEqual(p.returncode, 104)
        self.assertIn("script: s.lua:2:12: 'end' expected (to close 'function' at line 1) near 'y'", p.stderr)
        p = self.validate("f()", {"s.lua": "local ffi = require 'ffi'\nfunction f() return 1 end\n"})
        self.assertEqual(p.returncode, 104)
        self.assertIn('require "ffi": no file ffi.lua next to the test', p.stderr)
        p = self.validate("f()", {"s.lua": "local ok, err = load(string.dump(function() end))\n"
                                           "assert(ok, err)\nfunction f() end\n"})
        self.assertEqual(p.returncode, 104)
        self.assertIn("attempt to load a binary chunk (mode is 't')", p.stderr)

    def test_a_runtime_lua_error_ends_the_iteration_counted_by_message(self):
        with Target("-t", "1") as t:
            p, s, r = run_dir(f"""\
                target: {t.url.rstrip('/')}
                script: lib.lua
                scenarios:
                  s:
                    executor: per-vu-iterations
                    vus: 2
                    iterations: 3
                    flow:
                      - request: {{ url: /health }}
                      - if: {{ cond: "check_ready(body)", then: [ {{ request: {{ url: /health, name: never }} }} ] }}
                """, {"lib.lua": "function check_ready(b)\n  error('not ready: ' .. #b)\nend\n"})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        errors = series(r, "script_errors")
        self.assertEqual(len(errors), 1)
        self.assertEqual(errors[0]["count"], 6)
        self.assertEqual(errors[0]["tags"]["message"], "lib.lua:2: not ready: 15")
        self.assertIn("lib.lua:2: not ready: 15 (the iteration ended there)", p.stdout + p.stderr)
        self.assertNotIn("never", {h["tags"].get("name") for h in series(r, "http_reqs")})


class Budget(unittest.TestCase):
    def test_a_spinning_iteration_is_cut_and_the_other_vus_keep_their_rate(self):
        with Target("-t", "1") as t:
            start = time.monotonic()
            p, s, r = run_dir(f"""\
                target: {t.url.rstrip('/')}
                script: spin.lua
                scenarios:
                  spinner:
                    executor: constant-vus
                    vus: 1
                    duration: 3s
                    flow: [ {{ if: {{ cond: "spin()", then: [ {{ think: 1ms }} ] }} }} ]
                  steady:
                    executor: constant-arrival-rate
                    rate: 100
                    duration: 3s
                    pre_allocated_vus: 20
                    flow: [ {{ request: {{ url: /health }} }} ]
                """, {"spin.lua": "function spin()\n  local n = 0\n  while true do\n    n = n + 1\n  end\nend\n"},
                "--threads", "1")
            took = time.monotonic() - start
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertLess(took, 15)
        errors = series(r, "script_errors")
        self.assertTrue(errors and all("spin.lua:4: script_timeout" in h["tags"]["message"] for h in errors), errors)
        # Each cut takes its budget (100 ms); the spinning VU then waits 1 s: 3 cuts in 3 s.
        self.assertLessEqual(sum(h["count"] for h in errors), 4)
        steady = sum(h["count"] for h in series(r, "http_reqs") if h["tags"]["scenario"] == "steady")
        self.assertEqual(steady, 300)
        self.assertEqual(s["metrics"].get("dropped_iterations", {}).get("count", 0), 0)


if __name__ == "__main__":
    unittest.main()
