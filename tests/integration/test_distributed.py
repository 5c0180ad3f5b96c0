"""Distributed runs on one machine: a test split into segments 1/4..4/4 run by four
processes at once against nginx (which counts what it serves), merged with `loadcell merge`.
The server sees exactly the unsegmented test's totals; the merged result is the sum of the
parts; thresholds that no part can judge alone are judged on the merged result."""
import http.server
import json
import os
import subprocess
import tempfile
import threading
import unittest

from harness import LOADCELL, Nginx, Target, run_cli

# Every executor whose totals are exact: 21 + 1001 + 400 + 101 = 1523 requests. 7 VUs and
# 1001 iterations do not divide by 4: the remainders must land somewhere, once.
TEST = """
name: distributed
target: ${TARGET}
scenarios:
  closed:
    executor: per-vu-iterations
    vus: 7
    iterations: 3
    flow:
      - request: { name: closed, url: /closed }
  shared:
    executor: shared-iterations
    vus: 7
    iterations: 1001
    flow:
      - request: { name: shared, url: /shared }
  open:
    executor: constant-arrival-rate
    rate: 200
    duration: 2s
    pre_allocated_vus: 40
    max_vus: 200
    flow:
      - request: { name: open, url: /open }
  ramp:
    executor: ramping-arrival-rate
    start_rate: 0
    stages: [ { duration: 2s, target: 101 } ]
    pre_allocated_vus: 40
    max_vus: 200
    flow:
      - request: { name: ramp, url: /ramp }
thresholds:
  http_reqs: ["count==1523"]
  "http_reqs{scenario:shared}": ["count>500"]
"""
TOTAL = 1523

ROWS_TEST = """
target: ${TARGET}
data:
  users: { file: users.csv, mode: unique }
scenarios:
  logins:
    executor: per-vu-iterations
    vus: 7
    iterations: 3
    flow:
      - request: { name: user, url: "/user/{{ data.users.id }}" }
"""


class PathServer:
    """An HTTP server that records the path of every request it answers."""

    def __init__(self):
        paths = self.paths = []
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                with lock:
                    paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def by_name(doc):
    return {b["value"]: b["reqs"] for b in doc["breakdowns"] if b["tag"] == "name"}


class Segments(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="loadcell-dist-")
        with open(f"{cls.d}/test.yaml", "w") as f:
            f.write(TEST)
        with Nginx() as nginx:
            env = ["-e", f"TARGET={nginx.url.rstrip('/')}"]
            before = nginx.requests_served()
            whole = subprocess.run([LOADCELL, "run", f"{cls.d}/test.yaml", *env, "-q", "--out", f"{cls.d}/whole.json"],
                                   capture_output=True, text=True, timeout=120)
            cls.whole_served = nginx.requests_served() - before - 1  # the status request itself
            cls.whole_rc = whole.returncode
            before = nginx.requests_served()
            procs = [subprocess.Popen([LOADCELL, "run", f"{cls.d}/test.yaml", *env, "-q", "--segment", f"{k}/4",
                                       "--out", f"{cls.d}/part{k}.ndjson" if k % 2 else f"{cls.d}/part{k}.json"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for k in range(1, 5)]
            cls.parts = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
            cls.parts_served = nginx.requests_served() - before - 1
        cls.files = [f"{cls.d}/part{k}.{'ndjson' if k % 2 else 'json'}" for k in range(1, 5)]

    def part(self, k):
        p = run_cli("report", self.files[k - 1], "--json", f"{self.d}/p{k}.json")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(f"{self.d}/p{k}.json") as f:
            return json.load(f)

    def test_server_sees_the_unsegmented_totals_exactly(self):
        self.assertEqual(self.whole_rc, 0)
        self.assertEqual(self.whole_served, TOTAL)
        self.assertEqual(self.parts_served, TOTAL)

    def test_each_generator_runs_its_striped_share(self):
        shares = []
        for k in range(1, 5):
            out, err, rc = self.parts[k - 1]
            # Thresholds are the whole test's: a part shows them but does not fail on them.
            self.assertEqual(rc, 0, err)
            self.assertIn(f"segment {['0:1/4', '1/4:1/2', '1/2:3/4', '3/4:1'][k - 1]}", err)
            self.assertIn("`loadcell merge` judges them", out)
            doc = self.part(k)
            names = by_name(doc)
            shares.append((names["closed"], names["shared"], names["open"], names["ramp"]))
            self.assertFalse(doc["thresholds"][0]["ok"])  # count==1523 on a quarter
        # 7 VUs striped over 4: 2, 2, 2, 1 (x 3 iterations); 1001 iterations follow the VUs.
        self.assertEqual([s[0] for s in shares], [6, 6, 6, 3])
        self.assertEqual([s[1] for s in shares], [286, 286, 286, 143])
        self.assertEqual([s[2] for s in shares], [100, 100, 100, 100])
        self.assertEqual(sum(s[3] for s in shares), 101)
        self.assertTrue(all(25 <= s[3] <= 26 for s in shares), shares)

    def test_unique_rows_are_split_between_generators(self):
        # 7 VUs x 3 iterations over 4 generators, 40 rows in mode unique: the generators take
        # disjoint rows (row i is the generator's that owns i), so no row is used twice.
        with open(f"{self.d}/rows.yaml", "w") as f:
            f.write(ROWS_TEST)
        with open(f"{self.d}/users.csv", "w") as f:
            f.write("id\n" + "".join(f"{i}\n" for i in range(100, 140)))
        with PathServer() as server:
            procs = [subprocess.Popen([LOADCELL, "run", f"{self.d}/rows.yaml", "-e", f"TARGET={server.url}", "-q",
                                       "--segment", f"{k}/4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for k in range(1, 5)]
            for p in procs:
                _, err = p.communicate(timeout=60)
                self.assertEqual(p.returncode, 0, err)
            self.assertEqual(len(server.paths), 21)
            self.assertEqual(len(set(server.paths)), 21, sorted(server.paths))
            # Generators 1-3 run 6 iterations, generator 4 runs 3: each takes its first rows.
            rows = sorted(int(p.rsplit("/", 1)[1]) - 100 for p in server.paths)
            self.assertEqual(rows, sorted([4 * i + k for k in range(3) for i in range(6)] + [3, 7, 11]))

    def test_merged_result_is_the_sum_and_judges_thresholds_globally(self):
        p = run_cli("merge", *self.files, "--out", f"{self.d}/merged.json", "--summary-export", f"{self.d}/sum.json",
                    "--report", f"{self.d}/merged.html")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("✓ http_reqs: count==1523 (observed 1523)", p.stdout)
        with open(f"{self.d}/merged.json") as f:
            merged = json.load(f)
        parts = [self.part(k) for k in range(1, 5)]
        self.assertEqual(len(merged["meta"]["parts"]), 4)
        self.assertNotIn("segment", merged["meta"])
        self.assertEqual(merged["meta"]["vus_max"], sum(d["meta"]["vus_max"] for d in parts))
        self.assertTrue(all(t["ok"] for t in merged["thresholds"]), merged["thresholds"])
        # Counters and histograms add: every metric's count is the parts' sum.
        for metric in ("http_reqs", "iterations", "http_req_duration", "data_sent", "data_received"):
            total = sum(d["metrics"][metric].get("count", 0) for d in parts)
            if metric == "http_req_duration":
                total = sum(h["count"] for d in parts for h in d["histograms"] if h["metric"] == metric)
                got = sum(h["count"] for h in merged["histograms"] if h["metric"] == metric)
            else:
                got = merged["metrics"][metric]["count"]
            self.assertEqual(got, total, metric)
        self.assertEqual(merged["metrics"]["http_reqs"]["count"], TOTAL)
        # The merged max is the largest of the parts'; its p99 lies within theirs.
        pmax = max(d["metrics"]["http_req_duration"]["max"] for d in parts)
        self.assertAlmostEqual(merged["metrics"]["http_req_duration"]["max"], pmax, places=3)
        # The series adds up to the totals, second by second.
        self.assertEqual(sum(pt["reqs"] for pt in merged["series"]), TOTAL)
        with open(f"{self.d}/sum.json") as f:
            self.assertEqual(json.load(f)["metrics"]["http_reqs"]["count"], TOTAL)
        self.assertTrue(os.path.getsize(f"{self.d}/merged.html") > 10000)

    def test_a_threshold_only_the_whole_test_can_fail(self):
        # Each quarter stays under 1000 requests and says its threshold passed; the whole
        # test does not: merge judges the merged metrics, not the parts' verdicts.
        files = []
        for k in range(1, 5):
            doc = self.part(k)
            doc["thresholds"] = [{"metric": "http_reqs", "expr": "count<1000", "ok": True, "no_data": False,
                                  "observed": doc["metrics"]["http_reqs"]["count"]}]
            files.append(f"{self.d}/strict{k}.json")
            with open(files[-1], "w") as f:
                json.dump(doc, f)
        p = run_cli("merge", *files, "--out", f"{self.d}/strict-merged.json")
        self.assertEqual(p.returncode, 99, p.stdout + p.stderr)
        self.assertIn("✗ http_reqs: count<1000 (observed 1523)", p.stdout)

    def test_merge_refuses_parts_that_do_not_make_a_whole(self):
        p = run_cli("merge", *self.files[:3], "--out", f"{self.d}/x.json")
        self.assertEqual(p.returncode, 104)
        self.assertIn("missing part of 0,1/4,1/2,3/4,1: 3/4:1 (4/4)", p.stderr)
        p = run_cli("merge", self.files[0], *self.files, "--out", f"{self.d}/x.json")
        self.assertEqual(p.returncode, 104)
        self.assertIn("are the same segment (0:1/4)", p.stderr)
        p = run_cli("merge", f"{self.d}/whole.json", *self.files, "--out", f"{self.d}/x.json")
        self.assertEqual(p.returncode, 104)
        self.assertIn("whole.json: not a segment of a test (run it with --segment K/N)", p.stderr)
        p = run_cli("merge", *self.files, "--out", f"{self.d}/x.ndjson")
        self.assertEqual(p.returncode, 104)
        self.assertIn("--out", p.stderr)
        p = run_cli("merge", f"{self.d}/missing.json", "--out", f"{self.d}/x.json")
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot read", p.stderr)

    def test_parts_with_different_apdex_t_need_one_given(self):
        """merge took Apdex's T from part 0 whatever the others said."""
        with open(self.files[1]) as f:  # part 2: a .json document
            doc = json.load(f)
        doc["apdex"]["t_ms"] = 123
        odd = f"{self.d}/part2-odd.json"
        with open(odd, "w") as f:
            json.dump(doc, f)
        parts = [self.files[0], odd, *self.files[2:]]
        p = run_cli("merge", *parts, "--out", f"{self.d}/x.json")
        self.assertEqual(p.returncode, 104, p.stderr)
        self.assertIn("the parts were run with different Apdex T", p.stderr)
        self.assertIn("give --apdex-t", p.stderr)
        p = run_cli("merge", *parts, "--apdex-t", "250ms", "--out", f"{self.d}/x.json")
        self.assertIn(p.returncode, (0, 99), p.stderr)
        with open(f"{self.d}/x.json") as f:
            self.assertEqual(json.load(f)["apdex"]["t_ms"], 250)

    def test_bad_segment_arguments_are_named(self):
        for args, msg in ((["--segment", "5/4"], "--segment 5/4: expected K/N with 1 <= K <= N"),
                          (["--segments", "0,1/2,1"], "--segments: give --segment-index too"),
                          (["--segments", "0,1/2,1", "--segment-index", "3"],
                           "--segment-index: there is no segment 3 in a sequence of 2"),
                          (["--segment", "1/3:2/3", "--segments", "0,1/2,1"], "not a segment of --segments 0,1/2,1")):
            p = run_cli("run", f"{self.d}/test.yaml", "-e", "TARGET=http://127.0.0.1:9", *args)
            self.assertEqual(p.returncode, 104, p.stderr)
            self.assertIn(msg, p.stderr)


AGREE = """
name: agree
target: ${TARGET}
faults:
  - { kind: latency, at: 1s, duration: 1s, latency: 30ms }
scenarios:
  s:
    executor: constant-arrival-rate
    rate: 200
    duration: 3s
    pre_allocated_vus: 20
    flow:
      - request: { name: home, url: / }
thresholds:
  http_req_duration: ["p(95)<1000", "p(50)<0.001"]
  http_reqs: ["count>100"]
  "http_req_duration{name:home}": ["max<5000"]
  http_req_failed: ["rate<0.01"]
"""


class RunAndMergeAgree(unittest.TestCase):
    """`run` and `merge` judged differently: merge took Apdex's T from part 0, had no
    --apdex-t, and read an unknown fault kind as a blackhole. Now both use one pipeline."""

    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="loadcell-agree-")
        with open(f"{cls.d}/t.yaml", "w") as f:
            f.write(AGREE)
        with Target("--latency", "fixed:2ms") as t:
            p = run_cli("run", f"{cls.d}/t.yaml", "-e", f"TARGET={t.url}", "--segment", "1/1", "--apdex-t", "20ms",
                        "--out", f"{cls.d}/run.json", timeout=120)
        assert p.returncode == 99, p.stderr  # p(50)<0.001 fails
        with open(f"{cls.d}/run.json") as f:
            cls.run_doc = json.load(f)

    def merge(self, *args):
        p = run_cli("merge", *args, "--out", f"{self.d}/merged.json")
        with open(f"{self.d}/merged.json") as f:
            return p, json.load(f)

    def test_a_merge_of_a_whole_run_reaches_its_verdicts(self):
        p, merged = self.merge(f"{self.d}/run.json")
        self.assertEqual(p.returncode, 99, p.stderr)  # p(50)<0.001 fails, on the whole test
        for key in ("thresholds", "faults", "findings", "apdex"):
            self.assertEqual(merged[key], self.run_doc[key], key)
        self.assertEqual([t["ok"] for t in merged["thresholds"]], [True, False, True, True, True])
        self.assertEqual(merged["faults"][0]["kind"], "latency")
        self.assertEqual(merged["apdex"]["t_ms"], 20)

    def test_apdex_t_is_the_parts_or_given(self):
        p, merged = self.merge(f"{self.d}/run.json", "--apdex-t", "1s")
        self.assertEqual(p.returncode, 99, p.stderr)
        self.assertEqual(merged["apdex"]["t_ms"], 1000)
        self.assertEqual(merged["apdex"]["by_name"]["home"]["score"], 1.0)

    def test_an_unknown_fault_kind_is_an_error(self):
        doc = json.loads(json.dumps(self.run_doc))
        doc["faults"][0]["kind"] = "earthquake"
        with open(f"{self.d}/odd.json", "w") as f:
            json.dump(doc, f)
        p = run_cli("merge", f"{self.d}/odd.json", "--out", f"{self.d}/x.json")
        self.assertEqual(p.returncode, 104, p.stderr)
        self.assertIn("unknown kind `earthquake` (expected latency, reset, bandwidth or blackhole)", p.stderr)


if __name__ == "__main__":
    unittest.main()
