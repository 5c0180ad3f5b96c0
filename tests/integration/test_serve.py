"""`loadcell serve`: the REST API with a real HTTP client against a server started here, on
SQLite and on a real PostgreSQL — every endpoint and its error paths (401, 404, 400 with a
message, 409, 413), runs executed in their own processes (passed, failed on thresholds,
aborted, a run killed under the server), persistence across restarts, templates, alert
rules and events, schedules and the alert a regressing scheduled run raises."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
import unittest
import urllib.error
import urllib.request

from harness import LOADCELL, ROOT, Postgres, RecordingServer, Target
from test_results import ARTIFACTS

TERMINAL = {"passed", "failed", "aborted", "error"}


def test_yaml(target, duration="1s", vus=2, threshold="p(95)<500", name="api"):
    return textwrap.dedent(f"""
        name: {name}
        target: {target.rstrip('/')}
        scenarios:
          s:
            executor: constant-vus
            vus: {vus}
            duration: {duration}
            flow:
              - request: {{ name: home, url: /, check: [ {{ status: 200 }} ] }}
        thresholds:
          http_req_duration: ["{threshold}"]
    """).lstrip()


STARTED = []  # every server started, so that a failing test leaves none running


def tearDownModule():
    for proc in STARTED:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class Server:
    """A `loadcell serve` process; `call` is a real HTTP client with the token."""

    def __init__(self, db, *args, data_dir=None, cwd=None, env=None):
        self.db = db
        cmd = [LOADCELL, "serve", "--listen", "127.0.0.1:0", "--db", db, *args]
        if data_dir:
            cmd += ["--data-dir", data_dir]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env)
        STARTED.append(self.proc)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"serve did not start: {line!r} {self.proc.stderr.read()}")
        self.base = f"http://127.0.0.1:{m.group(1)}"
        self.token = None

    def read_token(self):
        """The token a first start prints (call only on a first start: later ones print none)."""
        line = self.proc.stdout.readline()
        m = re.search(r"API token \(shown this once; keep it\): (\S+)", line)
        return m.group(1) if m else None

    def call(self, method, path, body=None, token="default", raw=None, headers=None):
        """(status, parsed JSON or text) — errors are answers, not exceptions."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        tok = self.token if token == "default" else token
        if tok:
            req.add_header("Authorization", f"Bearer {tok}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, text, ctype = r.status, r.read().decode(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            status, text, ctype = e.code, e.read().decode(), e.headers.get("Content-Type", "")
        if "json" in ctype and text:
            return status, json.loads(text)
        return status, text

    def wait_run(self, run_id, statuses=TERMINAL, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, run = self.call("GET", f"/api/v1/runs/{run_id}")
            if status == 200 and run["status"] in statuses:
                return run
            time.sleep(0.1)  # polling the API for a state change, not a sleep standing in for one
        raise AssertionError(f"run {run_id} not in {statuses} after {timeout}s: {run}")

    def stop(self, sig=signal.SIGINT):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=60)
        return self.proc.returncode, out, err


class Api(unittest.TestCase):
    """One server (SQLite) for the API's endpoints and errors; runs against the built-in target."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="loadcell-serve-")
        cls.target = Target()
        cls.target.__enter__()
        cls.server = Server(f"{cls.dir}/service.db", "--max-concurrent-runs", "2", "--max-body", "65536")
        cls.server.token = cls.server.read_token()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.target.__exit__(None, None, None)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def create_test(self, name, yaml):
        status, t = self.server.call("POST", "/api/v1/tests", {"name": name, "yaml": yaml})
        self.assertEqual(status, 201, t)
        return t

    def test_token_is_required_and_checked(self):
        self.assertRegex(self.server.token, r"^lc_[0-9a-f]{48}$")
        status, body = self.server.call("GET", "/api/v1/tests", token=None)
        self.assertEqual((status, body), (401, {"error": "missing Authorization: Bearer <token>"}))
        status, body = self.server.call("GET", "/api/v1/runs", token="lc_" + "0" * 48)
        self.assertEqual((status, body), (401, {"error": "invalid token"}))
        status, body = self.server.call("POST", "/api/v1/runs", {"test": "x"}, token=None)
        self.assertEqual(status, 401)
        status, body = self.server.call("GET", "/api/v1/status")
        self.assertEqual(status, 200)
        self.assertEqual(body["schema_version"], 2)
        # The description of the API and the web page need no token (the page asks for it).
        self.assertEqual(self.server.call("GET", "/api/openapi.json", token=None)[0], 200)
        status, page = self.server.call("GET", "/", token=None)
        self.assertEqual(status, 200)
        self.assertIn("<title>loadcell</title>", page)

    def test_openapi_describes_every_route(self):
        status, doc = self.server.call("GET", "/api/openapi.json", token=None)
        self.assertEqual(status, 200)
        self.assertEqual(doc["openapi"], "3.0.3")
        self.assertEqual(doc["components"]["securitySchemes"]["bearer"], {"type": "http", "scheme": "bearer"})
        routes = {
            "/api/v1/status": {"get"},
            "/api/v1/tests": {"get", "post"}, "/api/v1/tests/validate": {"post"},
            "/api/v1/tests/{id}": {"get", "put", "delete"}, "/api/v1/tests/{id}/history": {"get"},
            "/api/v1/runs": {"get", "post"}, "/api/v1/runs/{id}": {"get"}, "/api/v1/runs/{id}/results": {"get"},
            "/api/v1/runs/{id}/report": {"get"}, "/api/v1/runs/{id}/abort": {"post"},
            "/api/v1/runs/{id}/compare": {"get"},
            "/api/v1/templates": {"get"}, "/api/v1/templates/{name}": {"post"},
            "/api/v1/alerts/rules": {"get", "post"}, "/api/v1/alerts/rules/{id}": {"get", "delete"},
            "/api/v1/alerts": {"get"}, "/api/v1/alerts/{id}": {"get"},
            "/api/v1/alerts/{id}/acknowledge": {"post"}, "/api/v1/alerts/{id}/resolve": {"post"},
            "/api/v1/schedules": {"get", "post"}, "/api/v1/schedules/{id}": {"get", "put", "delete"},
            "/api/v1/schedules/{id}/trigger": {"post"},
        }
        self.assertEqual({p: set(ops) for p, ops in doc["paths"].items()}, routes)
        for path, ops in doc["paths"].items():
            for op in ops.values():
                self.assertIn("summary", op)
                self.assertIn("401", op["responses"], path)
                for r in op["responses"].values():
                    for media in r.get("content", {}).values():
                        ref = media["schema"].get("$ref")
                        if ref:
                            self.assertIn(ref.split("/")[-1], doc["components"]["schemas"])

    def test_tests_crud_and_validation(self):
        yaml = test_yaml(self.target.url, name="crud")
        t = self.create_test("crud", yaml)
        self.assertEqual(t["name"], "crud")
        self.assertEqual(self.server.call("GET", f"/api/v1/tests/{t['id']}")[1]["yaml"], yaml)
        self.assertIn(t["id"], [x["id"] for x in self.server.call("GET", "/api/v1/tests")[1]["tests"]])
        status, body = self.server.call("POST", "/api/v1/tests", {"name": "crud", "yaml": yaml})
        self.assertEqual((status, body["error"]), (409, f"a test named \"crud\" exists (id {t['id']})"))
        # An invalid definition: 400 with the loader's message, line and column.
        bad = yaml.replace("vus: 2", "vus: two")
        status, body = self.server.call("POST", "/api/v1/tests", {"name": "bad", "yaml": bad})
        self.assertEqual(status, 400)
        self.assertEqual(body["errors"][0]["line"], 6)
        self.assertEqual(body["errors"][0]["column"], 10)
        self.assertIn("scenarios.s.vus", body["errors"][0]["message"])
        status, v = self.server.call("POST", "/api/v1/tests/validate", {"yaml": bad})
        self.assertEqual((status, v["valid"], v["errors"][0]["line"]), (200, False, 6))
        status, v = self.server.call("POST", "/api/v1/tests/validate", {"yaml": yaml})
        self.assertEqual((status, v["valid"], v["scenarios"]), (200, True, [{"name": "s", "executor": "constant-vus"}]))
        # Update, then the errors of updates.
        status, u = self.server.call("PUT", f"/api/v1/tests/{t['id']}", {"name": "crud2"})
        self.assertEqual((status, u["name"], u["yaml"]), (200, "crud2", yaml))
        self.assertEqual(self.server.call("PUT", f"/api/v1/tests/{t['id']}", {})[1]["error"],
                         "nothing to update: give name, yaml and/or files")
        self.assertEqual(self.server.call("PUT", f"/api/v1/tests/{t['id']}", {"yaml": bad})[0], 400)
        self.assertEqual(self.server.call("PUT", "/api/v1/tests/999999", {"name": "x"}),
                         (404, {"error": "no test with id 999999"}))
        # Malformed requests.
        self.assertEqual(self.server.call("POST", "/api/v1/tests", raw=b"{not json"),
                         (400, {"error": "request body: not valid JSON"}))
        self.assertEqual(self.server.call("POST", "/api/v1/tests", raw=b"[1]"),
                         (400, {"error": "request body: expected a JSON object"}))
        self.assertEqual(self.server.call("POST", "/api/v1/tests", {"name": 5, "yaml": yaml}),
                         (400, {"error": "name: expected a string"}))
        self.assertEqual(self.server.call("POST", "/api/v1/tests", {"name": "x"}), (400, {"error": "yaml: required"}))
        status, body = self.server.call("POST", "/api/v1/tests", {"name": "big", "yaml": "#" * 70000})
        self.assertEqual((status, body), (413, {"error": "request body larger than 65536 bytes (--max-body)"}))
        self.assertEqual(self.server.call("GET", "/api/v1/nothing"), (404, {"error": "no such endpoint: GET /api/v1/nothing"}))
        # Delete.
        self.assertEqual(self.server.call("DELETE", f"/api/v1/tests/{t['id']}")[0], 204)
        self.assertEqual(self.server.call("GET", f"/api/v1/tests/{t['id']}")[0], 404)
        self.assertEqual(self.server.call("DELETE", f"/api/v1/tests/{t['id']}")[0], 404)

    def test_inline_run_results_report_and_list(self):
        status, r = self.server.call("POST", "/api/v1/runs", {"test": test_yaml(self.target.url, name="inline")})
        self.assertEqual((status, r["status"]), (201, "queued"))
        run = self.server.wait_run(r["id"])
        self.assertEqual((run["status"], run["exit_code"], run["test_name"], run["test_id"]), ("passed", 0, "inline", None))
        status, results = self.server.call("GET", f"/api/v1/runs/{r['id']}/results")
        self.assertEqual(status, 200)
        self.assertEqual(results["schema"], "loadcell.results/v1")
        reqs = results["metrics"]["http_reqs"]["count"]
        self.assertGreater(reqs, 100)
        self.assertEqual(run["summary"]["reqs"], reqs)
        self.assertEqual(results["metrics"]["checks"]["passes"], reqs)
        status, html = self.server.call("GET", f"/api/v1/runs/{r['id']}/report")
        self.assertEqual(status, 200)
        self.assertIn("<title>loadcell report — inline</title>", html)
        listed = self.server.call("GET", "/api/v1/runs?status=passed&limit=1000")[1]["runs"]
        self.assertIn(r["id"], [x["id"] for x in listed])
        self.assertTrue(all(x["status"] == "passed" for x in listed))
        self.assertEqual(self.server.call("GET", "/api/v1/runs?status=done")[1]["error"],
                         "status: \"done\" is not one of queued, running, passed, failed, aborted, error")
        self.assertEqual(self.server.call("GET", "/api/v1/runs?limit=0")[0], 400)
        self.assertEqual(self.server.call("GET", "/api/v1/runs?test_id=x")[1]["error"], "test_id: expected an integer")
        self.assertEqual(self.server.call("GET", "/api/v1/runs/999999"), (404, {"error": "no run with id 999999"}))
        self.assertEqual(self.server.call("POST", f"/api/v1/runs/{r['id']}/abort"),
                         (409, {"error": f"run {r['id']} is passed: nothing to abort"}))

    def test_the_report_is_there_from_the_first_second_across_the_end(self):
        """The web UI's live view reads /report while a run ends: once the run has a second of
        results, every read finds the partial report or the whole one — never a 409 in between
        (the run used to leave the running list before its results were stored)."""
        r = self.server.call("POST", "/api/v1/runs", {"test": test_yaml(self.target.url, duration="2s", name="ending")})[1]
        answers, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline:
            status, run = self.server.call("GET", f"/api/v1/runs/{r['id']}")
            if (run.get("live") or {}).get("elapsed_s", 0) > 0 or run["status"] not in ("queued", "running"):
                answers.append(self.server.call("GET", f"/api/v1/runs/{r['id']}/report")[0])
            if run["status"] not in ("queued", "running"):
                break
        self.assertEqual(run["status"], "passed")
        self.assertGreater(len(answers), 3)
        self.assertEqual(set(answers), {200}, answers)

    def test_run_errors_at_the_edge(self):
        call = self.server.call
        self.assertEqual(call("POST", "/api/v1/runs", {})[1]["error"],
                         "give either \"test\" (a test definition in YAML) or \"test_id\"")
        self.assertEqual(call("POST", "/api/v1/runs", {"test_id": 999999}), (404, {"error": "no test with id 999999"}))
        status, body = call("POST", "/api/v1/runs", {"test": "scenarios: {}\nbogus: 1\n"})
        self.assertEqual(status, 400)
        self.assertTrue(body["error"].startswith("invalid test definition: test.yaml:"), body)
        yaml = test_yaml(self.target.url)
        self.assertEqual(call("POST", "/api/v1/runs", {"test": yaml, "overrides": {"vus": 0}})[1]["error"],
                         "overrides.vus: expected an integer ≥ 1")
        self.assertEqual(call("POST", "/api/v1/runs", {"test": yaml, "overrides": {"rate": 5}})[1]["error"],
                         "overrides.rate: unknown key (expected vus, duration, env)")

    def test_small_holes(self):
        """#17 item 13: an id past int64, security headers, the database's mode."""
        status, body = self.server.call("GET", "/api/v1/runs/99999999999999999999999")
        self.assertEqual((status, body["error"]), (404, "/api/v1/runs/99999999999999999999999: no such id "
                                                        "(99999999999999999999999)"))
        req = urllib.request.Request(self.server.base + "/")
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.headers["X-Frame-Options"], "DENY")
            self.assertIn("frame-ancestors 'none'", r.headers["Content-Security-Policy"])
            self.assertEqual(r.headers["X-Content-Type-Options"], "nosniff")
        self.assertEqual(os.stat(f"{self.dir}/service.db").st_mode & 0o777, 0o600)

    def test_the_docs_alert_rule_example_is_accepted(self):
        with open(os.path.join(ROOT, "docs", "service.md")) as f:
            doc = f.read()
        m = re.search(r"```json\n\s*(\{\"name\".*?\})\n\s*```", doc, re.S)
        self.assertIsNotNone(m, "the alert rule example in docs/service.md")
        status, rule = self.server.call("POST", "/api/v1/alerts/rules", json.loads(m.group(1)))
        self.assertEqual(status, 201, rule)
        self.assertEqual(self.server.call("DELETE", f"/api/v1/alerts/rules/{rule['id']}")[0], 204)

    def test_a_post_without_a_body_reaches_its_endpoint(self):
        """A POST without a body answered {"error": "HTTP 400"}; then a 400 asking for a body."""
        # What `curl -X POST URL` sends: no body and no Content-Length (urllib would add one).
        port = int(self.server.base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(f"POST /api/v1/schedules/999998/trigger HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                         f"Authorization: Bearer {self.server.token}\r\n\r\n".encode())
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 404"), head)
        self.assertEqual(json.loads(body)["error"], "no schedule with id 999998")
        status, body = self.server.call("POST", "/api/v1/schedules/999999/trigger", raw=b"")
        self.assertEqual((status, body["error"]), (404, "no schedule with id 999999"))

    def test_stored_test_with_overrides_failed_thresholds_and_alerts(self):
        t = self.create_test("thresholds", test_yaml(self.target.url, threshold="p(95)<0.001", name="thresholds"))
        status, rule = self.server.call("POST", "/api/v1/alerts/rules", {
            "name": "slow", "metric": "http_req_duration", "condition": "p(50)>0", "severity": "info",
            "cooldown_s": 3600, "test_id": t["id"]})
        self.assertEqual(status, 201, rule)
        status, r = self.server.call("POST", "/api/v1/runs", {"test_id": t["id"], "overrides": {"vus": 1, "duration": "2s"}})
        self.assertEqual(status, 201)
        run = self.server.wait_run(r["id"])
        self.assertEqual((run["status"], run["exit_code"]), ("failed", 99))
        self.assertTrue(run["message"].startswith("thresholds failed: http_req_duration p(95)<0.001"), run["message"])
        self.assertEqual(run["overrides"], {"vus": 1, "duration": "2s"})
        self.assertAlmostEqual(run["summary"]["duration_s"], 2, delta=0.5)
        results = self.server.call("GET", f"/api/v1/runs/{r['id']}/results")[1]
        self.assertEqual(results["metrics"]["vus_max"]["value"], 1)
        alerts = self.server.call("GET", f"/api/v1/alerts?run_id={r['id']}")[1]["alerts"]
        kinds = sorted((a["kind"], a["severity"]) for a in alerts)
        # The threshold crossed while the run went on (live, resolved when the run ended), and at its end.
        self.assertEqual(kinds, [("live", "critical"), ("rule", "info"), ("threshold", "critical")])
        self.assertEqual(next(a for a in alerts if a["kind"] == "live")["status"], "resolved")
        rule_alert = next(a for a in alerts if a["kind"] == "rule")
        self.assertEqual(rule_alert["rule_id"], rule["id"])
        self.assertTrue(rule_alert["message"].startswith("slow: http_req_duration p(50)>0 on run"), rule_alert)
        # A second run inside the rule's cooldown: the threshold alert again, the rule's not.
        r2 = self.server.call("POST", "/api/v1/runs", {"test_id": t["id"], "overrides": {"duration": "1s"}})[1]
        self.server.wait_run(r2["id"])
        self.assertEqual(sorted(a["kind"] for a in self.server.call("GET", f"/api/v1/alerts?run_id={r2['id']}")[1]["alerts"]),
                         ["live", "threshold"])
        # Acknowledge, resolve, and the transitions that are not allowed.
        a = rule_alert["id"]
        status, acked = self.server.call("POST", f"/api/v1/alerts/{a}/acknowledge")
        self.assertEqual((status, acked["status"]), (200, "acknowledged"))
        self.assertIsNotNone(acked["acknowledged"])
        self.assertEqual(self.server.call("POST", f"/api/v1/alerts/{a}/acknowledge"),
                         (409, {"error": f"alert {a} is acknowledged: it cannot be acknowledged"}))
        self.assertEqual(self.server.call("POST", f"/api/v1/alerts/{a}/resolve")[1]["status"], "resolved")
        self.assertEqual(self.server.call("POST", f"/api/v1/alerts/{a}/resolve")[0], 409)
        self.assertIn(a, [x["id"] for x in self.server.call("GET", "/api/v1/alerts?status=resolved")[1]["alerts"]])
        self.assertEqual(self.server.call("GET", "/api/v1/alerts/999999")[0], 404)
        self.assertEqual(self.server.call("GET", "/api/v1/alerts?status=new")[0], 400)
        # History: both runs, oldest first, with their numbers.
        h = self.server.call("GET", f"/api/v1/tests/{t['id']}/history")[1]
        self.assertEqual([x["id"] for x in h["runs"]], [r["id"], r2["id"]])
        self.assertGreater(h["runs"][0]["rate"], 0)
        self.assertEqual(set(h["change_points"]), {"p95_ms", "rate", "error_rate"})
        # Compare the two runs.
        status, c = self.server.call("GET", f"/api/v1/runs/{r2['id']}/compare?baseline={r['id']}")
        self.assertEqual(status, 200, c)
        self.assertEqual((c["baseline_id"], c["current_id"]), (r["id"], r2["id"]))
        self.assertIn("rows", c)
        self.assertEqual(self.server.call("GET", f"/api/v1/runs/{r2['id']}/compare")[0], 400)
        self.assertEqual(self.server.call("DELETE", f"/api/v1/alerts/rules/{rule['id']}")[0], 204)
        self.assertEqual(self.server.call("GET", f"/api/v1/alerts/rules/{rule['id']}")[0], 404)

    def test_alert_rule_errors(self):
        call = self.server.call
        base = {"name": "r", "metric": "http_req_duration", "condition": "p(95)>500"}
        self.assertEqual(call("POST", "/api/v1/alerts/rules", {**base, "condition": "p95 > 5"})[0], 400)
        self.assertEqual(call("POST", "/api/v1/alerts/rules", {**base, "severity": "high"})[1]["error"],
                         "severity: \"high\" is not one of critical, warning, info")
        self.assertEqual(call("POST", "/api/v1/alerts/rules", {**base, "metric": ""})[1]["error"],
                         "metric: required (e.g. http_req_duration)")
        self.assertEqual(call("POST", "/api/v1/alerts/rules", {**base, "test_id": 999999})[0], 404)
        status, rule = call("POST", "/api/v1/alerts/rules", base)
        self.assertEqual((status, rule["severity"], rule["cooldown_s"]), (201, "warning", 0))
        self.assertIn(rule["id"], [x["id"] for x in call("GET", "/api/v1/alerts/rules")[1]["rules"]])
        self.assertEqual(call("DELETE", f"/api/v1/alerts/rules/{rule['id']}")[0], 204)

    def test_abort_a_running_run_and_delete_conflict(self):
        t = self.create_test("long", test_yaml(self.target.url, duration="60s", vus=1, name="long"))
        r = self.server.call("POST", "/api/v1/runs", {"test_id": t["id"]})[1]
        running = self.server.wait_run(r["id"], {"running"})
        self.assertEqual(self.server.call("GET", f"/api/v1/runs/{r['id']}/results")[0], 409)
        self.assertEqual(self.server.call("DELETE", f"/api/v1/tests/{t['id']}"),
                         (409, {"error": f"test {t['id']} has 1 run(s) queued or running: abort them first"}))
        # The live snapshot shows the run going on.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            live = self.server.call("GET", f"/api/v1/runs/{r['id']}")[1].get("live", {})
            if live.get("reqs", 0) > 0:
                break
            time.sleep(0.1)
        self.assertGreater(live["reqs"], 0)
        self.assertGreaterEqual(live["elapsed_s"], 1)
        self.assertEqual(running["started"] is not None, True)
        status, body = self.server.call("POST", f"/api/v1/runs/{r['id']}/abort")
        self.assertEqual(status, 202)
        run = self.server.wait_run(r["id"])
        self.assertEqual((run["status"], run["exit_code"], run["message"]), ("aborted", 105, "aborted on request"))
        self.assertTrue(run["has_results"])
        self.assertLess(run["summary"]["duration_s"], 50)
        self.assertEqual(self.server.call("DELETE", f"/api/v1/tests/{t['id']}")[0], 204)

    def test_a_killed_run_is_an_error_and_the_server_goes_on(self):
        r = self.server.call("POST", "/api/v1/runs", {"test": test_yaml(self.target.url, duration="60s", vus=1)})[1]
        self.server.wait_run(r["id"], {"running"})
        # The run's own process, found by its working directory under the server's data dir.
        run_dir = os.path.realpath(f"{self.dir}/service.db.runs/run-{r['id']}")
        pid, deadline = None, time.monotonic() + 30
        while pid is None and time.monotonic() < deadline:  # `running` is set just before the process starts
            for p in os.listdir("/proc"):
                try:
                    if p.isdigit() and os.readlink(f"/proc/{p}/cwd") == run_dir:
                        with open(f"/proc/{p}/cmdline") as f:
                            if "serve" not in f.read():  # not the server's fork before it became the run
                                pid = int(p)
                except OSError:
                    pass
        self.assertIsNotNone(pid)
        os.kill(pid, signal.SIGKILL)
        run = self.server.wait_run(r["id"])
        self.assertEqual((run["status"], run["message"]), ("error", "the run's process was killed by signal 9"))
        self.assertFalse(os.path.exists(run_dir))
        self.assertEqual(self.server.call("GET", "/api/v1/status")[0], 200)

    def test_templates(self):
        call = self.server.call
        templates = call("GET", "/api/v1/templates")[1]["templates"]
        self.assertEqual([t["name"] for t in templates], ["baseline", "load", "stress", "spike", "soak", "capacity"])
        self.assertEqual(templates[0]["params"][0], {"name": "url", "description": "the URL to load (http:// or https://)",
                                                     "required": True})
        for t in templates:
            status, body = call("POST", f"/api/v1/templates/{t['name']}", {"params": {"url": self.target.url + "health"}})
            self.assertEqual(status, 200, body)
            v = call("POST", "/api/v1/tests/validate", {"yaml": body["yaml"]})[1]
            self.assertTrue(v["valid"], (t["name"], v))
        load = call("POST", "/api/v1/templates/load", {"params": {"url": self.target.url, "vus": 7, "duration": "10s"}})[1]
        self.assertIn("{ duration: 1000ms, target: 7 }", load["yaml"])
        self.assertIn("{ duration: 8000ms, target: 7 }", load["yaml"])
        self.assertEqual(call("POST", "/api/v1/templates/load", {"params": {}})[1]["error"],
                         "params.url: required (the URL to load (http:// or https://))")
        self.assertEqual(call("POST", "/api/v1/templates/load", {"params": {"url": self.target.url, "vus": "many"}})[1]["error"],
                         "params.vus: expected a non-negative number")
        self.assertEqual(call("POST", "/api/v1/templates/load", {"params": {"url": self.target.url, "color": 1}})[1]["error"],
                         "params.color: unknown parameter of template load")
        self.assertEqual(call("POST", "/api/v1/templates/chaos", {})[0], 404)
        # Stored as a test, and run.
        status, saved = call("POST", "/api/v1/templates/baseline",
                             {"params": {"url": self.target.url, "duration": "1s"}, "save_as": "from-template"})
        self.assertEqual(status, 201, saved)
        self.assertEqual(call("POST", "/api/v1/templates/baseline",
                              {"params": {"url": self.target.url}, "save_as": "from-template"})[0], 409)
        r = call("POST", "/api/v1/runs", {"test_id": saved["test"]["id"]})[1]
        self.assertEqual(self.server.wait_run(r["id"])["status"], "passed")

    def test_schedules_and_a_regression_alert(self):
        call = self.server.call
        with Target("--latency", "fixed:20ms") as slow:
            t = self.create_test("nightly", test_yaml(self.target.url, duration="6s", vus=2, name="nightly"))
            self.assertEqual(call("POST", "/api/v1/schedules", {"test_id": t["id"], "cron": "61 * * * *"})[1]["error"],
                             "cron minute field \"61\": values must be within 0-59")
            self.assertEqual(call("POST", "/api/v1/schedules", {"test_id": 999999, "cron": "@daily"})[0], 404)
            self.assertEqual(call("POST", "/api/v1/schedules", {"cron": "@daily"})[0], 400)
            status, s = call("POST", "/api/v1/schedules", {"test_id": t["id"], "cron": "0 3 * * *"})
            self.assertEqual(status, 201, s)
            self.assertEqual(time.gmtime(s["next_run"]).tm_hour, 3)
            self.assertEqual(call("PUT", f"/api/v1/schedules/{s['id']}", {"cron": "@every 1h", "enabled": False})[1]["enabled"], False)
            self.assertEqual(call("PUT", f"/api/v1/schedules/{s['id']}", {"enabled": "yes"})[0], 400)
            # Fired twice (as the scheduler would; 6 s runs: the comparison needs 5 seconds or
            # more of each): first against the fast target, then the
            # test now points at a target 20 ms slower — the second run regresses.
            first = call("POST", f"/api/v1/schedules/{s['id']}/trigger")[1]
            run1 = self.server.wait_run(first["id"])
            self.assertEqual((run1["status"], run1["trigger"], run1["schedule_id"]), ("passed", "schedule", s["id"]))
            self.assertEqual(call("GET", f"/api/v1/alerts?run_id={first['id']}")[1]["alerts"], [])
            call("PUT", f"/api/v1/tests/{t['id']}", {"yaml": test_yaml(slow.url, duration="6s", vus=2, name="nightly")})
            second = call("POST", f"/api/v1/schedules/{s['id']}/trigger")[1]
            run2 = self.server.wait_run(second["id"])
            self.assertEqual(run2["status"], "passed")
            alerts = call("GET", f"/api/v1/alerts?run_id={second['id']}")[1]["alerts"]
            compared = call("GET", f"/api/v1/runs/{second['id']}/compare?baseline={first['id']}")[1]
            self.assertEqual([(a["kind"], a["severity"]) for a in alerts], [("regression", "critical")], compared)
            self.assertIn(f"regressed against run {first['id']}", alerts[0]["message"])
            self.assertEqual(call("GET", f"/api/v1/schedules/{s['id']}")[1]["last_run_id"], second["id"])
            self.assertEqual(call("DELETE", f"/api/v1/schedules/{s['id']}")[0], 204)
            self.assertEqual(call("GET", f"/api/v1/schedules/{s['id']}")[0], 404)

    def test_a_leaking_target_raises_a_leak_alert(self):
        # As test_soak.py: the built-in target's --leak grows its RSS at a known rate, and the
        # run monitors it; the truth is RSS, which a sanitizer build's allocator changes.
        if os.environ.get("LOADCELL_SANITIZED") in ("1", "ON", "TRUE"):
            self.skipTest("RSS truth does not hold in a sanitizer build")
        with Target("--leak", "30") as leaky:
            yaml = textwrap.dedent(f"""
                name: soak
                target: {leaky.url.rstrip('/')}
                monitor: {{ processes: [ {{ pid: {leaky.proc.pid} }} ] }}
                scenarios:
                  api:
                    executor: constant-arrival-rate
                    rate: 50
                    duration: 14s
                    pre_allocated_vus: 5
                    max_vus: 20
                    flow:
                      - request: {{ url: /health }}
            """).lstrip()
            r = self.server.call("POST", "/api/v1/runs", {"test": yaml})[1]
            self.assertEqual(self.server.wait_run(r["id"])["status"], "passed")
        alerts = self.server.call("GET", f"/api/v1/alerts?run_id={r['id']}")[1]["alerts"]
        self.assertEqual([(a["kind"], a["severity"]) for a in alerts], [("leak", "warning")])
        self.assertIn("leak suspected", alerts[0]["message"])

    def test_every_schedule_fires_by_itself(self):
        t = self.create_test("every", test_yaml(self.target.url, duration="1s", vus=1, name="every"))
        s = self.server.call("POST", "/api/v1/schedules", {"test_id": t["id"], "cron": "@every 2s"})[1]
        deadline = time.monotonic() + 30
        runs = []
        while time.monotonic() < deadline and not runs:
            runs = self.server.call("GET", f"/api/v1/runs?test_id={t['id']}")[1]["runs"]
            time.sleep(0.1)
        self.assertEqual(self.server.call("PUT", f"/api/v1/schedules/{s['id']}", {"enabled": False})[0], 200)
        self.assertTrue(runs, "the schedule never fired")
        self.assertEqual((runs[0]["trigger"], runs[0]["schedule_id"]), ("schedule", s["id"]))
        self.server.wait_run(runs[0]["id"])


class WebUi(unittest.TestCase):
    def test_create_start_watch_and_open_the_report_in_chromium(self):
        d = tempfile.mkdtemp(prefix="loadcell-serve-ui-")
        with Target() as target:
            s = Server(f"{d}/ui.db")
            s.token = s.read_token()
            with open(f"{d}/t.yaml", "w") as f:
                f.write(test_yaml(target.url, duration="8s", vus=2, name="browser"))
            js = os.path.join(ROOT, "tests", "js")
            p = subprocess.run(["node", os.path.join(js, "check_service.js"), s.base, s.token, f"{d}/t.yaml",
                                os.path.join(ARTIFACTS, "service")], capture_output=True, text=True, timeout=180, cwd=js)
            s.stop()
        lines = p.stdout.strip().splitlines()
        v = json.loads(lines[-1]) if lines else {"ok": False, "errors": [p.stderr]}
        self.assertTrue(v["ok"], v)
        self.assertTrue(v["wrong_token_refused"])
        self.assertRegex(v["live"], r"elapsed [1-9]\d* s · [1-9]\d* requests")
        self.assertEqual(v["status"], "passed")
        self.assertEqual(v["report_title"], "loadcell report — browser")
        self.assertEqual(v["listed"], "passed")
        self.assertGreaterEqual(v["live_charts"], 4)
        self.assertGreater(v["compare_rows"], 3)
        self.assertIn(v["compare_verdict"], ("regressed", "no significant regression"))
        self.assertNotIn("token", v["link_url"])
        self.assertEqual(v["schedule_error"], "cron minute field \"61\": values must be within 0-59")
        self.assertIn("0 3 * * *", v["schedule"])
        self.assertIn("disabled", v["schedule"])
        shutil.rmtree(d, ignore_errors=True)


class Lifecycle(unittest.TestCase):
    def test_persistence_restart_and_interrupted_runs(self):
        d = tempfile.mkdtemp(prefix="loadcell-serve-life-")
        with Target() as target:
            s = Server(f"{d}/l.db")
            token = s.token = s.read_token()
            self.assertIsNotNone(token)
            t = s.call("POST", "/api/v1/tests", {"name": "kept", "yaml": test_yaml(target.url, duration="60s", vus=1)})[1]
            r = s.call("POST", "/api/v1/runs", {"test_id": t["id"]})[1]
            s.wait_run(r["id"], {"running"})
            deadline = time.monotonic() + 30  # until the run measured something (and handles SIGINT)
            while time.monotonic() < deadline and s.call("GET", f"/api/v1/runs/{r['id']}")[1].get("live", {}).get("reqs", 0) == 0:
                time.sleep(0.1)
            # SIGINT stops the server: its run is aborted with what it measured.
            rc, out, err = s.stop()
            self.assertEqual(rc, 0, err)
            s2 = Server(f"{d}/l.db")
            s2.token = token
            run = s2.call("GET", f"/api/v1/runs/{r['id']}")[1]
            self.assertEqual((run["status"], run["message"], run["has_results"]), ("aborted", "aborted: the server was stopped", True))
            self.assertEqual(s2.call("GET", f"/api/v1/tests/{t['id']}")[1]["name"], "kept")
            # SIGKILL: the next start marks the run interrupted.
            r2 = s2.call("POST", "/api/v1/runs", {"test_id": t["id"]})[1]
            s2.wait_run(r2["id"], {"running"})
            s2.stop(signal.SIGKILL)
            s3 = Server(f"{d}/l.db")
            s3.token = token
            run2 = s3.call("GET", f"/api/v1/runs/{r2['id']}")[1]
            self.assertEqual((run2["status"], run2["interrupted"]), ("aborted", True))
            self.assertEqual(run2["message"], "interrupted: the server stopped while the run was in progress")
            self.assertEqual(s3.call("GET", "/api/v1/status")[1]["active_runs"], 0)
            rc, out, err = s3.stop()
            self.assertNotIn("API token", out)  # printed on the first start only
            self.assertNotIn(token, err)
        shutil.rmtree(d, ignore_errors=True)

    def test_relative_db_and_data_dir(self):
        """The README's own `serve --db loadcell.db`: relative paths, from another directory."""
        d = tempfile.mkdtemp(prefix="loadcell-serve-rel-")
        with Target() as target:
            token = None
            for args, data_dir in (((), None), (("--data-dir", "work/runs"), "work/runs")):
                s = Server("loadcell.db", *args, cwd=d)
                s.token = token = token or s.read_token()  # printed on the first start only
                r = s.call("POST", "/api/v1/runs", {"test": test_yaml(target.url)})[1]
                run = s.wait_run(r["id"])
                self.assertEqual(run["status"], "passed", run)
                results = s.call("GET", f"/api/v1/runs/{r['id']}/results")[1]
                self.assertGreater(results["metrics"]["http_reqs"]["count"], 0)
                self.assertEqual(s.stop()[0], 0)
                self.assertTrue(os.path.isfile(f"{d}/loadcell.db"))
                if data_dir:
                    self.assertTrue(os.path.isdir(f"{d}/{data_dir}"))
        shutil.rmtree(d, ignore_errors=True)

    def test_a_killed_server_lets_its_runs_stop_gracefully(self):
        """The parent-death signal came as several SIGINTs, which count as "stop at once" (#17)."""
        d = tempfile.mkdtemp(prefix="loadcell-serve-pdeath-")
        with Target("--latency", "normal:800ms,10ms") as target:
            s = Server(f"{d}/p.db")
            s.token = s.read_token()
            yaml = test_yaml(target.url, duration="60s", vus=4).replace("duration: 60s", "duration: 60s\n    graceful_stop: 20s")
            r = s.call("POST", "/api/v1/runs", {"test": yaml})[1]
            s.wait_run(r["id"], {"running"})
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and s.call("GET", f"/api/v1/runs/{r['id']}")[1].get("live", {}).get("reqs", 0) == 0:
                time.sleep(0.1)  # polling the API until the run measured something
            s.stop(signal.SIGKILL)
            results = f"{d}/p.db.runs/run-{r['id']}/results.json"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not os.path.exists(results):
                time.sleep(0.1)  # the orphaned run writing its results as it ends
            self.assertTrue(os.path.exists(results), "the run wrote no results after its server died")
            for _ in range(50):  # a file that exists may still be being written: read it once it parses
                try:
                    with open(results) as f:
                        doc = json.load(f)
                    break
                except json.JSONDecodeError:
                    time.sleep(0.1)
        meta = doc["meta"]
        self.assertTrue(meta["complete"])
        self.assertTrue(meta["interrupted"])
        # Graceful: the in-flight 800 ms requests finished within graceful_stop, none was cut.
        self.assertEqual(meta["interrupted_iterations"], 0, doc["messages"])
        shutil.rmtree(d, ignore_errors=True)

    def test_no_secrets_in_results_reports_or_logs(self):
        d = tempfile.mkdtemp(prefix="loadcell-serve-secret-")
        with Target() as target:
            s = Server(f"{d}/s.db")
            s.token = s.read_token()
            yaml = test_yaml(target.url).replace("url: /,", "url: /, headers: { Authorization: \"Bearer topsecret-4711\" },")
            self.assertIn("topsecret-4711", yaml)
            r = s.call("POST", "/api/v1/runs", {"test": yaml})[1]
            self.assertEqual(s.wait_run(r["id"])["status"], "passed")
            results = s.call("GET", f"/api/v1/runs/{r['id']}/results")[1]
            report = s.call("GET", f"/api/v1/runs/{r['id']}/report")[1]
            rc, out, err = s.stop()
        self.assertGreater(results["metrics"]["http_reqs"]["count"], 0)
        for text in (json.dumps(results), report, out, err):
            self.assertNotIn("topsecret-4711", text)
        self.assertNotIn(s.token, err)
        shutil.rmtree(d, ignore_errors=True)

    def test_listen_and_token_file_rules(self):
        d = tempfile.mkdtemp(prefix="loadcell-serve-tok-")
        p = subprocess.run([LOADCELL, "serve", "--listen", "0.0.0.0:0", "--db", f"{d}/x.db"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 104)
        self.assertIn("--listen 0.0.0.0:0: a non-loopback address needs --token-file", p.stderr)
        # A name that starts like a loopback address is not one.
        p = subprocess.run([LOADCELL, "serve", "--listen", "127.evil.invalid:0", "--db", f"{d}/x.db"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 104)
        self.assertIn("--listen 127.evil.invalid:0: a non-loopback address needs --token-file", p.stderr)
        with open(f"{d}/tokens", "w") as f:
            f.write("# team tokens\nshort\n")
        p = subprocess.run([LOADCELL, "serve", "--db", f"{d}/x.db", "--token-file", f"{d}/tokens"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 104)
        self.assertIn("a token shorter than 16 characters", p.stderr)
        with open(f"{d}/tokens", "w") as f:
            f.write("# team tokens\nalpha-0123456789abcdef\nbeta-0123456789abcdef\n")
        s = Server(f"{d}/x.db", "--token-file", f"{d}/tokens")
        for tok in ("alpha-0123456789abcdef", "beta-0123456789abcdef"):
            self.assertEqual(s.call("GET", "/api/v1/tests", token=tok)[0], 200)
        self.assertEqual(s.call("GET", "/api/v1/tests", token="gamma-0123456789abcdef")[0], 401)
        rc, out, err = s.stop()
        self.assertNotIn("API token", out)
        shutil.rmtree(d, ignore_errors=True)


class WhatATestCanReach(unittest.TestCase):
    """A test submitted over the API sees only what its run is given: never the server's
    environment, never a file of the server's (#17 items 6 and 7)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="loadcell-serve-iso-")
        env = dict(os.environ, ENVSECRET_42="ENVSECRET_42-value", HTTP_PROXY="http://127.0.0.1:9",
                   LOADCELL_SERVER_ONLY="server-only-value")
        cls.server = Server(f"{cls.dir}/s.db", env=env)
        cls.server.token = cls.server.read_token()
        with open(f"{cls.dir}/secret.csv", "w") as f:
            f.write("user\nroot-secret\n")
        os.chmod(f"{cls.dir}/secret.csv", 0o600)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_the_servers_environment_is_not_the_tests(self):
        yaml = "target: ${ENVSECRET_42}\nscenarios:\n  s:\n    executor: shared-iterations\n    flow: [ { request: { url: / } } ]\n"
        status, body = self.server.call("POST", "/api/v1/runs", {"test": yaml})
        self.assertEqual(status, 400)
        self.assertNotIn("ENVSECRET_42-value", json.dumps(body))
        self.assertIn("environment variable ENVSECRET_42 is not set (a test run by the service sees only the variables "
                      "given with its run: pass \"overrides\": {\"env\": {\"ENVSECRET_42\": \"...\"}}", body["error"])
        with RecordingServer() as srv:
            yaml = textwrap.dedent(f"""
                target: {srv.url}
                scenarios:
                  s:
                    executor: shared-iterations
                    iterations: 2
                    flow:
                      - request:
                          url: /x
                          headers: {{ X-Pw: "${{PW}}", X-Server: "${{LOADCELL_SERVER_ONLY:-absent}}", X-Env: "{{{{ env.PW }}}}" }}
                          check: [ {{ status: 200 }} ]
            """)
            status, r = self.server.call("POST", "/api/v1/runs", {"test": yaml, "overrides": {"env": {"PW": "pw-from-run"}}})
            self.assertEqual(status, 201, r)
            run = self.server.wait_run(r["id"])
            self.assertEqual(run["status"], "passed", run)
            seen = [(h.get("X-Pw"), h.get("X-Server"), h.get("X-Env")) for (_, _, h, _) in srv.requests]
        # HTTP_PROXY of the server did not reach the run either: the requests arrived directly.
        self.assertEqual(seen, [("pw-from-run", "absent", "pw-from-run")] * 2)

    def test_a_test_names_only_files_uploaded_with_it(self):
        def data_test(path):
            return ("target: http://127.0.0.1:1\ndata: { u: { file: \"" + path + "\" } }\nscenarios:\n  s:\n"
                    "    executor: shared-iterations\n    flow: [ { request: { url: \"/{{ data.u.user }}\" } } ]\n")

        answers = []
        for path in (f"{self.dir}/secret.csv", f"{self.dir}/missing.csv", "../secret.csv", "/etc/passwd"):
            status, body = self.server.call("POST", "/api/v1/runs", {"test": data_test(path)})
            self.assertEqual(status, 400, body)
            self.assertNotIn("root-secret", json.dumps(body))
            answers.append(body["error"].replace(path, "PATH"))
        # One message whatever the disk holds: it tells nothing of the server's files.
        self.assertEqual(len(set(answers)), 1, answers)
        self.assertIn("`PATH`: a data file here is one uploaded with the test, named by a relative path without `..`",
                      answers[0])
        with RecordingServer() as srv:
            yaml = data_test("users.csv").replace("http://127.0.0.1:1", srv.url)
            status, r = self.server.call("POST", "/api/v1/runs", {"test": yaml.replace("shared-iterations", "shared-iterations\n    iterations: 2"),
                                                                  "files": {"users.csv": "user\nann\nbob\n"}})
            self.assertEqual(status, 201, r)
            run = self.server.wait_run(r["id"])
            self.assertEqual(run["status"], "passed", run)
            self.assertEqual(run["overrides"], {"files": ["users.csv"]})
            self.assertEqual(sorted(p for (_, p, _, _) in srv.requests), ["/ann", "/bob"])
        status, body = self.server.call("POST", "/api/v1/runs", {"test": data_test("users.csv"), "files": {"../x.csv": "a"}})
        self.assertEqual((status, body["error"]), (400, "files.../x.csv: a file name is a relative path without `..`"))

    def test_a_stored_test_keeps_its_files(self):
        with RecordingServer() as srv:
            yaml = ("target: " + srv.url + "\ndata: { u: { file: data/users.csv } }\nscenarios:\n  s:\n"
                    "    executor: shared-iterations\n    iterations: 2\n    flow: [ { request: { url: \"/{{ data.u.user }}\" } } ]\n")
            status, body = self.server.call("POST", "/api/v1/tests", {"name": "with-data", "yaml": yaml})
            self.assertEqual(status, 400)
            self.assertIn("`data/users.csv` was not uploaded with the test (files)", body["error"])
            status, t = self.server.call("POST", "/api/v1/tests", {"name": "with-data", "yaml": yaml,
                                                                   "files": {"data/users.csv": "user\nann\nbob\n"}})
            self.assertEqual(status, 201, t)
            self.assertEqual(t["files"], ["data/users.csv"])
            r = self.server.call("POST", "/api/v1/runs", {"test_id": t["id"]})[1]
            self.assertEqual(self.server.wait_run(r["id"])["status"], "passed")
            # A run may bring its own version of a file; a schedule's run takes the test's.
            r = self.server.call("POST", "/api/v1/runs", {"test_id": t["id"], "files": {"data/users.csv": "user\ncid\ndan\n"}})[1]
            self.assertEqual(self.server.wait_run(r["id"])["status"], "passed")
            status, sc = self.server.call("POST", "/api/v1/schedules", {"test_id": t["id"], "cron": "@daily"})
            self.assertEqual(status, 201, sc)
            status, fired = self.server.call("POST", f"/api/v1/schedules/{sc['id']}/trigger", raw=b"{}")
            self.assertEqual(status, 201, fired)
            self.assertEqual(self.server.wait_run(fired["id"])["status"], "passed")
            paths = sorted(p for (_, p, _, _) in srv.requests)
        self.assertEqual(paths, ["/ann", "/ann", "/bob", "/bob", "/cid", "/dan"])
        status, t2 = self.server.call("PUT", f"/api/v1/tests/{t['id']}", {"files": {}})
        self.assertEqual(status, 400)  # without its file the test is no longer valid
        self.server.call("DELETE", f"/api/v1/schedules/{sc['id']}")


class OnPostgres(unittest.TestCase):
    def test_same_api_on_postgresql_and_persistence(self):
        with Postgres() as pg, Target() as target:
            d = tempfile.mkdtemp(prefix="loadcell-serve-pg-")
            s = Server(pg.url, data_dir=f"{d}/runs")
            token = s.token = s.read_token()
            t = s.call("POST", "/api/v1/tests", {"name": "pg", "yaml": test_yaml(target.url, name="pg")})[1]
            r = s.call("POST", "/api/v1/runs", {"test_id": t["id"]})[1]
            run = s.wait_run(r["id"])
            self.assertEqual(run["status"], "passed")
            reqs = s.call("GET", f"/api/v1/runs/{r['id']}/results")[1]["metrics"]["http_reqs"]["count"]
            self.assertEqual(run["summary"]["reqs"], reqs)
            self.assertEqual(s.call("POST", "/api/v1/alerts/rules",
                                    {"name": "x", "metric": "http_req_duration", "condition": "p(95)>0"})[0], 201)
            s.stop()
            # The same schema, in PostgreSQL's own tables.
            self.assertEqual(pg.sql("SELECT MAX(version) FROM schema_version"), "2")
            self.assertEqual(pg.sql(f"SELECT status, reqs FROM runs WHERE id = {r['id']}"), f"passed|{reqs}")
            s2 = Server(pg.url, data_dir=f"{d}/runs")
            s2.token = token
            self.assertEqual(s2.call("GET", f"/api/v1/runs/{r['id']}")[1]["summary"]["reqs"], reqs)
            self.assertEqual(s2.call("GET", f"/api/v1/tests/{t['id']}")[1]["name"], "pg")
            self.assertEqual(len(s2.call("GET", "/api/v1/alerts/rules")[1]["rules"]), 1)
            rc, out, err = s2.stop()
            self.assertEqual(rc, 0, err)
            self.assertNotIn("API token", out)
            shutil.rmtree(d, ignore_errors=True)

    def test_unreachable_database_is_a_clear_error(self):
        p = subprocess.run([LOADCELL, "serve", "--db", "postgres://loadcell:secret@127.0.0.1:1/none"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot connect to postgres://loadcell:[redacted]@127.0.0.1:1/none", p.stderr)
        self.assertNotIn("secret", p.stderr)


if __name__ == "__main__":
    unittest.main()
