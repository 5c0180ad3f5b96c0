"""Results files and reports: `run --out` (.json and .ndjson), `loadcell report` into HTML,
JUnit, Markdown, CSV and JSON, gold files for a fixed result, a run killed with SIGKILL,
the HTML report in headless Chromium, and report generation time for a long run."""
import json
import os
import random
import signal
import subprocess
import tempfile
import textwrap
import time
import unittest

from harness import LOADCELL, ROOT, Target, check_page, run_cli

GOLDEN = os.path.join(ROOT, "tests", "golden", "results")
ARTIFACTS = os.environ.get("LOADCELL_ARTIFACTS", tempfile.gettempdir())

TEST = """
name: results-test
target: ${TARGET}
scenarios:
  shop:
    executor: constant-vus
    vus: 4
    duration: DURATION
    tags: { tenant: "t{{ vu % 2 }}" }
    flow:
      - request: { name: health, url: /health, check: [ { status: 200 } ] }
      - request: { name: echo, method: POST, url: /echo, body: "hello", check: [ { status: 200 } ] }
      - think: 5ms
thresholds:
  http_req_failed: ["rate==0"]
  "http_req_duration{name:health}": ["p(95)<1000"]
"""


def write_test(d, duration):
    path = os.path.join(d, "test.yaml")
    with open(path, "w") as f:
        f.write(TEST.replace("DURATION", duration))
    return path


def read_ndjson(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def long_run_document():
    # A results document as a 1-hour run with 50 request names leaves it: 3600 points
    # with 50 names each, and every name's histograms.
    with open(os.path.join(GOLDEN, "fixed.json")) as f:
        doc = json.load(f)
    hdr = next(h["hdr"] for h in doc["histograms"] if h["kind"] == "trend")
    names = [f"request-{i:02d}" for i in range(50)]
    stats = {"reqs": 100, "failed": 1, "avg": 1.5, "p50": 1.0, "p90": 2.0, "p95": 3.0, "p99": 5.0, "max": 9.0}
    series = []
    for t in range(1, 3601):
        p = dict(stats, reqs=5000, failed=50, t=t, dur=1.0, vus=100, iterations=5000, dropped=0, checks_pass=0,
                 checks_fail=0, data_sent=1, data_received=1, by_scenario={"s": 5000}, errors={})
        p["by_name"] = {n: [100, 1, 1.5, 1.0, 2.0, 3.0, 5.0, 9.0] for n in names}
        series.append(p)
    hists = []
    for n in names:
        tags = {"name": n, "scenario": "s", "method": "GET", "status": "200"}
        hists.append({"metric": "http_reqs", "kind": "counter", "tags": tags, "count": 360000})
        hists.append({"metric": "http_req_failed", "kind": "rate", "tags": tags, "count": 360000, "passes": 3600})
        for m in ("http_req_duration", "http_req_waiting", "http_req_connecting", "http_req_sending"):
            hists.append({"metric": m, "kind": "trend", "tags": tags, "count": 360000, "hdr": hdr})
    doc["series"], doc["histograms"] = series, hists
    doc["meta"]["duration_s"] = 3600.0
    return doc


class Golden(unittest.TestCase):
    """A frozen capture (fixed.ndjson) rendered into every format equals the gold files."""

    def test_outputs_of_a_fixed_result(self):
        d = tempfile.mkdtemp(prefix="loadcell-golden-")
        outs = {"json": "fixed.json", "junit": "fixed.junit.xml", "markdown": "fixed.md", "csv": "fixed.csv"}
        args = []
        for flag, name in outs.items():
            args += [f"--{flag}", os.path.join(d, name)]
        p = run_cli("report", os.path.join(GOLDEN, "fixed.ndjson"), *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        for name in outs.values():
            with open(os.path.join(d, name)) as f:
                got = f.read()
            gold = os.path.join(GOLDEN, name)
            if os.environ.get("UPDATE_GOLDEN"):
                with open(gold, "w") as f:
                    f.write(got)
            with open(gold) as f:
                self.assertEqual(got, f.read(), f"{name} differs from the gold file (UPDATE_GOLDEN=1 rewrites it)")

    def test_json_reads_back_to_the_same_outputs(self):
        d = tempfile.mkdtemp(prefix="loadcell-golden-")
        p = run_cli("report", os.path.join(GOLDEN, "fixed.json"), "--markdown", f"{d}/md", "--csv", f"{d}/csv",
                    "--json", f"{d}/json", "--junit", f"{d}/junit")
        self.assertEqual(p.returncode, 0, p.stderr)
        for mine, gold in (("md", "fixed.md"), ("csv", "fixed.csv"), ("json", "fixed.json"), ("junit", "fixed.junit.xml")):
            with open(f"{d}/{mine}") as a, open(os.path.join(GOLDEN, gold)) as b:
                self.assertEqual(a.read(), b.read(), mine)

    def test_gold_content(self):
        # What the gold files must say, independently of their bytes.
        with open(os.path.join(GOLDEN, "fixed.junit.xml")) as f:
            junit = f.read()
        self.assertIn('<testsuites name="golden-results" tests="5" failures="4"', junit)
        self.assertIn('<failure message="http_req_failed: rate&lt;0.01 failed: observed 0.5" type="threshold"/>', junit)
        self.assertIn('<failure message="6 of 6 failed (0.00% passed)" type="check"/>', junit)
        with open(os.path.join(GOLDEN, "fixed.csv")) as f:
            rows = f.read().splitlines()
        self.assertEqual(rows[0], "second,duration_s,vus,name,reqs,rate,failed,avg_ms,p50_ms,p90_ms,p95_ms,p99_ms,max_ms")
        self.assertIn('"items, page 1"', rows[3])
        self.assertEqual(sum(int(r.split(",")[4]) for r in rows[1:] if r.split(",")[3] == ""), 12)
        with open(os.path.join(GOLDEN, "fixed.md")) as f:
            md = f.read()
        self.assertTrue(md.startswith("### ❌ loadcell: golden-results"))
        self.assertIn("| ❌ status == 201 | 0 | 6 |", md)


class RunOutputs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="loadcell-results-")
        with Target() as t:
            path = write_test(cls.d, "3s")
            cls.p = subprocess.run([LOADCELL, "run", path, "-e", f"TARGET={t.url.rstrip('/')}", "--out", f"{cls.d}/r.json",
                                    "--out", f"{cls.d}/r.ndjson", "--report", f"{cls.d}/report.html",
                                    "--summary-export", f"{cls.d}/summary.json"],
                                   capture_output=True, text=True, timeout=60)
        with open(f"{cls.d}/r.json") as f:
            cls.doc = json.load(f)

    def test_exit_and_files(self):
        self.assertEqual(self.p.returncode, 0, self.p.stderr + self.p.stdout)
        for name in ("r.json", "r.ndjson", "report.html", "summary.json"):
            self.assertTrue(os.path.getsize(f"{self.d}/{name}") > 0, name)

    def test_document(self):
        doc = self.doc
        self.assertEqual(doc["schema"], "loadcell.results/v1")
        meta = doc["meta"]
        self.assertEqual(meta["test"], "results-test")
        self.assertEqual(len(meta["file_sha256"]), 64)
        self.assertIn("--out", meta["command_line"])
        self.assertTrue(meta["complete"])
        self.assertAlmostEqual(meta["duration_s"], 3.0, delta=0.5)
        self.assertEqual([t["ok"] for t in doc["thresholds"]], [True, True])
        reqs = doc["metrics"]["http_reqs"]["count"]
        self.assertGreater(reqs, 100)
        # The per-second series adds up exactly to the totals.
        self.assertEqual(sum(p["reqs"] for p in doc["series"]), reqs)
        self.assertEqual(sum(p["iterations"] for p in doc["series"]), doc["metrics"]["iterations"]["count"])
        self.assertEqual(doc["series_fields"], ["reqs", "failed", "avg", "p50", "p90", "p95", "p99", "max"])
        self.assertEqual(sum(p["by_name"].get("health", [0])[0] for p in doc["series"]), reqs // 2)
        self.assertEqual([p["t"] for p in doc["series"]], list(range(1, len(doc["series"]) + 1)))
        self.assertAlmostEqual(sum(p["dur"] for p in doc["series"]), meta["duration_s"], delta=0.01)
        # Every metric x tag set is there with its histogram.
        kinds = {(h["metric"], h["kind"]) for h in doc["histograms"]}
        self.assertIn(("http_req_duration", "trend"), kinds)
        self.assertTrue(all(h["hdr"].startswith("HISTF") for h in doc["histograms"] if h["kind"] == "trend"))
        tenants = {h["tags"].get("tenant") for h in doc["histograms"] if h["metric"] == "http_reqs"}
        self.assertEqual(tenants, {"t0", "t1"})
        with open(f"{self.d}/summary.json") as f:
            self.assertEqual(json.load(f)["metrics"], doc["metrics"])

    def test_ndjson_holds_the_same_results(self):
        records = read_ndjson(f"{self.d}/r.ndjson")
        self.assertEqual(records[0]["type"], "meta")
        self.assertEqual(records[-1]["type"], "end")
        self.assertEqual([r["type"] for r in records[1:-1]], ["second"] * (len(records) - 2))
        self.assertGreater(records[0]["meta"]["start_unix"], 1.7e9)
        p = run_cli("report", f"{self.d}/r.ndjson", "--json", f"{self.d}/from-ndjson.json")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(f"{self.d}/from-ndjson.json") as f:
            self.assertEqual(json.load(f), self.doc)

    def test_html_report_in_chromium(self):
        rc, v = check_page("file://" + f"{self.d}/report.html", os.path.join(ARTIFACTS, "report.png"))
        self.assertEqual(rc, 0, v)
        self.assertEqual(v["verdict"], "passed")
        self.assertEqual(v["rows"], 4)  # health, echo, tenant=t0, tenant=t1
        self.assertEqual([c["id"] for c in v["drawn"]], ["chart-latency", "chart-throughput", "chart-vus", "chart-cpu", "chart-memory",
                                  "chart-spectrum"])


class Interrupted(unittest.TestCase):
    def test_sigint_writes_every_output(self):
        self.interrupt_writes_every_output(signal.SIGINT)

    def test_sigterm_writes_every_output(self):
        self.interrupt_writes_every_output(signal.SIGTERM)

    def interrupt_writes_every_output(self, sig):
        d = tempfile.mkdtemp(prefix="loadcell-int-")
        with Target() as t:
            path = write_test(d, "60s")
            proc = subprocess.Popen([LOADCELL, "run", path, "-e", f"TARGET={t.url.rstrip('/')}", "--out", f"{d}/r.json",
                                     "--out", f"{d}/r.ndjson", "--report", f"{d}/r.html", "-q"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if os.path.exists(f"{d}/r.ndjson"):
                    with open(f"{d}/r.ndjson") as f:
                        if f.read().count('"type":"second"') >= 1:
                            break
                time.sleep(0.05)
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 105, err)
        self.assertIn("(interrupted)", out)
        with open(f"{d}/r.json") as f:
            doc = json.load(f)
        self.assertTrue(doc["meta"]["interrupted"])
        self.assertTrue(doc["meta"]["complete"])
        self.assertLess(doc["meta"]["duration_s"], 30)
        self.assertEqual(read_ndjson(f"{d}/r.ndjson")[-1]["type"], "end")
        self.assertTrue(os.path.getsize(f"{d}/r.html") > 50000)


class Killed(unittest.TestCase):
    def test_sigkill_leaves_a_stream_that_renders(self):
        rng = random.Random()
        with Target() as t:
            for attempt in range(3):
                d = tempfile.mkdtemp(prefix="loadcell-kill-")
                path = write_test(d, "60s")
                out = f"{d}/r.ndjson"
                proc = subprocess.Popen([LOADCELL, "run", path, "-e", f"TARGET={t.url.rstrip('/')}", "--out", out, "-q"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                want = rng.randint(1, 3)
                deadline = time.monotonic() + 30
                # Kill once the stream holds `want` seconds, plus a random fraction of one.
                while time.monotonic() < deadline:
                    if not os.path.exists(out):
                        time.sleep(0.05)
                        continue
                    with open(out) as f:
                        if f.read().count('"type":"second"') >= want:
                            break
                    time.sleep(0.05)
                time.sleep(rng.random())
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                seconds = [r for r in read_ndjson(out) if r["type"] == "second"]
                self.assertGreaterEqual(len(seconds), want)
                p = run_cli("report", out, "--json", f"{d}/r.json", "--markdown", f"{d}/r.md", "--html", f"{d}/r.html")
                self.assertEqual(p.returncode, 0, p.stderr)
                with open(f"{d}/r.json") as f:
                    doc = json.load(f)
                self.assertFalse(doc["meta"]["complete"])
                total = sum(s["point"]["reqs"] for s in seconds)
                self.assertGreater(total, 0)
                self.assertEqual(doc["metrics"]["http_reqs"]["count"], total)
                self.assertEqual(len(doc["series"]), len(seconds))
                with open(f"{d}/r.md") as f:
                    self.assertIn("without its final record", f.read())
                if attempt == 0:
                    rc, v = check_page("file://" + f"{d}/r.html", os.path.join(ARTIFACTS, "report-killed.png"))
                    self.assertEqual(rc, 0, v)


    def test_a_killed_run_never_renders_as_passed(self):
        """A run whose threshold was failing, killed at 3 s, showed ✅ and tests="0" failures="0" (#17)."""
        d = tempfile.mkdtemp(prefix="loadcell-kill-")
        with open(f"{d}/t.yaml", "w") as f:
            f.write(textwrap.dedent("""
                target: ${TARGET}
                scenarios:
                  s: { executor: constant-vus, vus: 2, duration: 60s, flow: [ { request: { url: / } } ] }
                thresholds:
                  http_req_duration: ["p(95)<0.001"]
                  http_reqs: ["count>0"]
                  group_duration: ["p(95)<100"]
            """))
        out = f"{d}/r.ndjson"
        with Target() as t:
            proc = subprocess.Popen([LOADCELL, "run", f"{d}/t.yaml", "-e", f"TARGET={t.url.rstrip('/')}", "--out", out, "-q"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # until the stream holds two seconds
                if os.path.exists(out) and open(out).read().count('"type":"second"') >= 2:
                    break
                time.sleep(0.05)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        p = run_cli("report", out, "--json", f"{d}/r.json", "--markdown", f"{d}/r.md", "--junit", f"{d}/j.xml",
                    "--html", f"{d}/r.html")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(f"{d}/r.json") as f:
            doc = json.load(f)
        outcome = {(o["metric"], o["expr"]): (o["ok"], o["no_data"]) for o in doc["thresholds"]}
        self.assertEqual(outcome, {("http_req_duration", "p(95)<0.001"): (False, False),   # judged: it failed
                                   ("http_reqs", "count>0"): (True, False),               # judged: it held
                                   ("group_duration", "p(95)<100"): (False, True)})        # not in the stream: no pass
        with open(f"{d}/j.xml") as f:
            xml = f.read()
        self.assertIn('tests="4" failures="3"', xml)
        self.assertIn('<testcase classname="run" name="the run completed">', xml)
        with open(f"{d}/r.md") as f:
            self.assertTrue(f.read().startswith("### ❌"))
        rc, v = check_page("file://" + f"{d}/r.html", os.path.join(ARTIFACTS, "report-killed-failing.png"))
        self.assertEqual(rc, 0, v)
        self.assertEqual(v.get("verdict"), "failed (incomplete)", v)


class OutputErrors(unittest.TestCase):
    """A missing directory, a full disk, a read-only file system: each output that cannot be
    written is named with the reason, before the run (when it can be known) and after;
    the run still finishes, prints its summary, and writes the outputs that can be written."""

    def mount_tmpfs(self, d, options):
        os.makedirs(d)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", d], capture_output=True, text=True)
        if p.returncode != 0:
            self.skipTest(f"cannot mount a tmpfs here (needs root): {p.stderr.strip()}")
        self.addCleanup(subprocess.run, ["umount", "-l", d])

    def test_each_failed_output_is_named_and_the_run_finishes(self):
        d = tempfile.mkdtemp(prefix="loadcell-outerr-")
        full, ro = f"{d}/full", f"{d}/ro"
        self.mount_tmpfs(full, "size=16k")
        self.mount_tmpfs(ro, "ro,size=16k")
        with open(f"{full}/filler", "wb") as f:  # one 4 KiB page left: the stream fills it during the run
            f.write(b"x" * 12288)
        with Target() as t:
            path = write_test(d, "2s")
            p = subprocess.run([LOADCELL, "run", path, "-e", f"TARGET={t.url.rstrip('/')}", "-q",
                                "--out", f"{d}/missing/r.json", "--out", f"{full}/r.ndjson", "--report", f"{full}/r.html",
                                "--summary-export", f"{ro}/s.json", "--out", f"{d}/ok.json"],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("http_reqs", p.stdout)  # the summary
        err = p.stderr
        # Known before the run starts:
        self.assertIn(f"cannot write {d}/missing/r.json: directory {d}/missing does not exist (the run goes on", err)
        self.assertIn(f"cannot write {ro}/s.json: Read-only file system", err)
        # Found while writing: the stream says so once during the run and once at the end.
        self.assertIn(f"cannot write {full}/r.ndjson: No space left on device (the run goes on)", err)
        self.assertRegex(err, rf"cannot write {full}/r.ndjson: No space left on device \(the stream holds its first \d+ "
                              r"complete seconds\)")
        self.assertIn(f"cannot write {full}/r.html: No space left on device", err)
        self.assertFalse(os.path.exists(f"{full}/r.html.tmp"))  # no half-written leftovers
        # What could be written was.
        with open(f"{d}/ok.json") as f:
            self.assertGreater(json.load(f)["metrics"]["http_reqs"]["count"], 0)
        lines = [line for line in err.splitlines() if "cannot write" in line]
        self.assertEqual(len(lines), 7, err)  # missing x2, ro x2, ndjson x2, html x1


class Errors(unittest.TestCase):
    def test_bad_inputs(self):
        d = tempfile.mkdtemp(prefix="loadcell-err-")
        p = run_cli("report", f"{d}/missing.json", "--markdown", f"{d}/x.md")
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"cannot read {d}/missing.json", p.stderr)
        with open(f"{d}/bad.json", "w") as f:
            f.write('{"hello": 1}')
        p = run_cli("report", f"{d}/bad.json", "--markdown", f"{d}/x.md")
        self.assertEqual(p.returncode, 104)
        self.assertIn("not a loadcell results document", p.stderr)
        with open(f"{d}/bad.ndjson", "w") as f:
            f.write('{"type":"meta","schema":"loadcell.results/v1","meta":{}}\n')
        p = run_cli("report", f"{d}/bad.ndjson", "--markdown", f"{d}/x.md")
        self.assertEqual(p.returncode, 104)
        self.assertIn(f"{d}/bad.ndjson:1:", p.stderr)
        p = run_cli("report", os.path.join(GOLDEN, "fixed.json"))
        self.assertEqual(p.returncode, 104)
        self.assertIn("nothing to write", p.stderr)
        p = run_cli("run", os.path.join(ROOT, "examples", "smoke.yaml"), "--out", f"{d}/r.txt")
        self.assertEqual(p.returncode, 104)
        self.assertIn("--out", p.stderr)

    def test_unwritable_output_is_named_and_the_run_finishes(self):
        d = tempfile.mkdtemp(prefix="loadcell-err-")
        with Target() as t:
            path = write_test(d, "1s")
            p = subprocess.run([LOADCELL, "run", path, "-e", f"TARGET={t.url.rstrip('/')}", "--out",
                                f"{d}/no/such/dir/r.ndjson", "--out", f"{d}/r.json", "--report", f"{d}/missing/r.html"],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(f"cannot write {d}/no/such/dir/r.ndjson", p.stderr)
        self.assertIn(f"cannot write {d}/missing/r.html", p.stderr)
        self.assertIn("http_reqs", p.stdout)
        self.assertTrue(os.path.exists(f"{d}/r.json"))


class LongRunReport(unittest.TestCase):
    def test_one_hour_fifty_names_under_two_seconds(self):
        doc = long_run_document()
        d = tempfile.mkdtemp(prefix="loadcell-long-")
        with open(f"{d}/long.json", "w") as f:
            json.dump(doc, f)
        start = time.monotonic()
        p = run_cli("report", f"{d}/long.json", "--html", f"{d}/r.html", "--junit", f"{d}/j.xml", "--markdown",
                    f"{d}/r.md", "--csv", f"{d}/r.csv")
        elapsed = time.monotonic() - start
        self.assertEqual(p.returncode, 0, p.stderr)
        print(f"report of a 1-hour, 50-name run: {elapsed:.2f} s, {os.path.getsize(f'{d}/long.json') >> 20} MiB in")
        # A sanitizer build (make test-asan) is several times slower by design: the content
        # is still checked, the time only on the release build.
        if os.environ.get("LOADCELL_SANITIZED") not in ("1", "ON", "TRUE"):
            self.assertLess(elapsed, 2.0)
        with open(f"{d}/r.csv") as f:
            self.assertEqual(sum(1 for _ in f), 1 + 3600 * 51)


if __name__ == "__main__":
    unittest.main()
