"""The database under test seen two ways during a `sql` load on a real PostgreSQL (started by
the test, with pg_stat_statements loaded):
- `monitor: postgres:` reads the server's statistics itself: connections by state, commits
  per second that add up to the queries the load sent, the slowest statement by its text;
- `monitor: prometheus:` asks a real Prometheus that scrapes the Debian packages
  prometheus-postgres-exporter and prometheus-node-exporter: the values recorded for database
  connections and host CPU are ones PromQL returns over the run, and a threshold on the
  connections fails the run (exit 99) when the load opens 30 of them."""
import json
import os
import shutil
import subprocess
import tempfile
import textwrap
import time
import unittest
import urllib.parse

from harness import LOADCELL, Postgres, Prometheus, Target, free_port, http_get, promql, quick, wait_until

POOL = 30


def sql_load(pg, monitor, thresholds, seconds=6, then=""):
    """A test keeping 20 of POOL connections busy with pg_sleep(0.05) for `seconds` (and
    the scenarios in `then`)."""
    return textwrap.dedent(f"""\
        name: database under load
        databases:
          main: {{ url: "{pg.url}", pool: {POOL} }}
        monitor:
        {textwrap.indent(monitor.strip(), "  ")}
        scenarios:
          sleepers:
            executor: constant-arrival-rate
            rate: 400
            duration: {seconds}s
            pre_allocated_vus: 60
            max_vus: 100
            flow:
              - sql: {{ name: sleep, db: main, query: "select pg_sleep(0.05)" }}
        {textwrap.indent(then.strip(), "  ")}
        thresholds:
        {textwrap.indent(thresholds.strip(), "  ")}
        """)


class Database(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="loadcell-pgmon-")
        cls.pg = Postgres(options="-c shared_preload_libraries=pg_stat_statements")
        cls.pg.sql("create extension pg_stat_statements")
        cls.procs = []
        cls.pg_exporter = free_port()
        env = dict(os.environ, DATA_SOURCE_NAME=cls.pg.url + "?sslmode=disable")
        cls.start(["prometheus-postgres-exporter", f"--web.listen-address=127.0.0.1:{cls.pg_exporter}"], env=env)
        cls.node_exporter = free_port()
        cls.start(["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{cls.node_exporter}"])
        cls.prometheus = Prometheus(cls.d, {"postgres": f"127.0.0.1:{cls.pg_exporter}",
                                            "node": f"127.0.0.1:{cls.node_exporter}"})
        cls.prom = cls.prometheus.port
        wait_until(lambda: len(promql(cls.prom, "up == 1")["data"]["result"]) == 2, 30,
                   "Prometheus to scrape both exporters")
        wait_until(lambda: promql(cls.prom, "pg_stat_activity_count")["data"]["result"], 30,
                   "the PostgreSQL exporter's first reading")

    @classmethod
    def start(cls, argv, env=None):
        with open(f"{cls.d}/{os.path.basename(argv[0])}.log", "w") as log:
            cls.procs.append(subprocess.Popen(argv, stdout=log, stderr=log, env=env))

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs:
            p.terminate()
            p.wait(timeout=30)
        cls.prometheus.stop()
        cls.pg.stop()
        shutil.rmtree(cls.d, ignore_errors=True)

    def run_test(self, text):
        d = tempfile.mkdtemp(prefix="run-", dir=self.d)
        with open(f"{d}/t.yaml", "w") as f:
            f.write(text)
        p = subprocess.run([LOADCELL, "run", f"{d}/t.yaml", "-q", "--out", f"{d}/r.json"], capture_output=True,
                           text=True, timeout=120)
        with open(f"{d}/r.json") as f:
            return p, json.load(f)

    @staticmethod
    def series(doc, metric):
        """{key: [values by second]} of the gauges named `metric` (any tags)."""
        out = {}
        for pt in doc["series"]:
            for k, v in pt["resources"].items():
                if k == metric or k.startswith(metric + "{"):
                    out.setdefault(k, []).append(v)
        return out

    def test_its_own_statistics(self):
        self.pg.sql("select pg_stat_statements_reset()")
        commits_before = int(self.pg.sql("select xact_commit from pg_stat_database where datname = 'postgres'"))
        p, doc = self.run_test(sql_load(self.pg, f'postgres: {{ url: "{self.pg.url}", statements: 3 }}',
                                        "monitor_pg_connections_used: [\"max>=30\"]\n"
                                        "monitor_pg_deadlocks: [\"value==0\"]\n", seconds=4))
        commits_after = int(self.pg.sql("select xact_commit from pg_stat_database where datname = 'postgres'"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        queries = doc["metrics"]["sql_queries"]["count"]
        self.assertGreater(queries, 1500)
        self.assertGreaterEqual(commits_after - commits_before, queries)
        used = self.series(doc, "monitor_pg_connections_used")["monitor_pg_connections_used"]
        self.assertGreaterEqual(max(used), POOL)       # the load's pool, and the exporter's connection
        self.assertLessEqual(max(used), POOL + 3)      # not the monitor's own
        # Little's law: 400 queries/s of 50 ms keep 20 connections busy, the rest of the pool idle.
        active = sorted(self.series(doc, 'monitor_pg_connections{state="active"}')['monitor_pg_connections{state="active"}'])
        self.assertTrue(17 <= active[-1] <= 25, active)
        idle = sorted(self.series(doc, 'monitor_pg_connections{state="idle"}')['monitor_pg_connections{state="idle"}'])
        self.assertTrue(POOL - 25 <= idle[0] <= POOL - 17 + 1, idle)
        self.assertEqual(self.series(doc, "monitor_pg_connections_max")["monitor_pg_connections_max"][0], 200)
        # Commits per second as PostgreSQL publishes them: never more than the server counted
        # over the run (which it publishes in full once loadcell's connections close), at least
        # the first second's. (PostgreSQL 15 holds a busy backend's counters back for up to 60 s:
        # docs/analysis.md.)
        commits = self.series(doc, "monitor_pg_xact_commit_rate")["monitor_pg_xact_commit_rate"]
        self.assertLessEqual(sum(commits), 1.2 * (commits_after - commits_before), commits)
        self.assertGreater(max(commits), 100, commits)
        self.assertTrue(all(c >= 0 for c in commits), commits)
        # The slowest statement is the load's, by its normalised text, ~50 ms each.
        slow = self.series(doc, "monitor_pg_statement_ms")
        key = 'monitor_pg_statement_ms{query="select pg_sleep($1)"}'
        self.assertIn(key, slow, list(slow))
        ms = sorted(slow[key])
        self.assertTrue(49 < ms[len(ms) // 2] < 60, ms)
        self.assertFalse(any("loadcell monitor" in k or "FROM pg_stat_" in k for k in slow), list(slow))
        rate = self.series(doc, "monitor_pg_statement_calls_rate")['monitor_pg_statement_calls_rate{query="select pg_sleep($1)"}']
        # 400 calls a second while the load runs (the seconds it fully covers).
        self.assertTrue(360 <= sorted(rate)[len(rate) // 2] <= 440, rate)
        self.assertTrue(0.9 <= max(self.series(doc, "monitor_pg_cache_hit_ratio")["monitor_pg_cache_hit_ratio"]) <= 1)
        self.assertIn("monitor_pg_connections_used", p.stdout)  # in the summary's thresholds

    def test_a_database_that_cannot_be_reached_is_a_note(self):
        port = free_port()
        url = f"postgres://loadcell:hunter22@127.0.0.1:{port}/postgres"
        p, doc = self.run_test(sql_load(self.pg, f'postgres: {{ url: "{url}" }}', "sql_query_failed: [\"rate==0\"]",
                                        seconds=2))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        notes = [m for m in doc["messages"] if "monitor postgres" in m]
        self.assertEqual(len(notes), 1, doc["messages"])
        self.assertIn(f"127.0.0.1:{port}", notes[0])
        self.assertIn("refused", notes[0])
        self.assertNotIn("hunter22", p.stdout + p.stderr + json.dumps(doc))
        self.assertEqual(self.series(doc, "monitor_pg_connections_used"), {})

    def test_quick_reads_it_from_a_flag(self):
        url = self.pg.url.replace("loadcell@", "loadcell:hunter22@")  # trust auth: any password works
        with Target("--threads", "1") as target:
            run = quick(target.url, "-d", "3s", "-c", "2", "-q", "--monitor-postgres", url)
        self.assertEqual(run.rc, 0, run.stderr)
        used = self.series(run.results, "monitor_pg_connections_used")
        self.assertTrue(used, run.results["series"][-1]["resources"])
        self.assertNotIn("hunter22", json.dumps(run.results) + run.stdout + run.stderr)

    def test_through_prometheus_and_its_exporters(self):
        start = time.time()
        p, doc = self.run_test(sql_load(self.pg, f"""
            prometheus:
              url: http://127.0.0.1:{self.prom}
              queries:
                db_connections: sum(pg_stat_activity_count{{datname="postgres"}})
                host_cpu: 100 * (1 - avg(rate(node_cpu_seconds_total{{mode="idle"}}[5s])))
            """, 'monitor_db_connections: ["max<20"]\nmonitor_host_cpu: ["max<=100"]', seconds=8))
        end = time.time()
        self.assertEqual(p.returncode, 99, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"✗ monitor_db_connections.*max<20")
        conns = self.series(doc, "monitor_db_connections")["monitor_db_connections"]
        self.assertGreaterEqual(max(conns), POOL)
        cpu = self.series(doc, "monitor_host_cpu")["monitor_host_cpu"]
        self.assertGreaterEqual(len(cpu), 6)
        # Each value recorded is one PromQL gives for the same query at an instant of the run
        # (evaluated every 50 ms over it: finer than the exporters' 1 s samples).
        for name, values in (("db_connections", conns), ("host_cpu", cpu)):
            query = {"db_connections": 'sum(pg_stat_activity_count{datname="postgres"})',
                     "host_cpu": '100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle"}[5s])))'}[name]
            answer = json.loads(http_get(f"http://127.0.0.1:{self.prom}/api/v1/query_range?" + urllib.parse.urlencode(
                {"query": query, "start": f"{start - 1:.3f}", "end": f"{end:.3f}", "step": "0.05"})))
            truth = {round(float(v), 6) for _, v in answer["data"]["result"][0]["values"]}
            missing = [v for v in values if round(v, 6) not in truth]
            self.assertLessEqual(len(missing), 1, (name, missing, len(values)))


class Mistakes(unittest.TestCase):
    def test_are_named_with_their_place(self):
        cases = [
            ("monitor:\n  postgres: { statements: 3 }\n", "t.yaml:6:13: monitor.postgres: missing `url`"),
            ("monitor:\n  postgres: { url: http://db:5432 }\n",
             "monitor.postgres.url: expected a postgres:// or postgresql:// URL"),
            ("monitor:\n  postgres: { url: postgres://db/x, statements: 500 }\n", "monitor.postgres.statements"),
            ("monitor:\n  postgres: [ { url: postgres://db/x, slowest: 3 } ]\n",
             "t.yaml:6:39: monitor.postgres[0].slowest: unknown key `slowest`"),
            ("thresholds:\n  monitor_pg_connections_used: [\"max<20\"]\n",
             "thresholds.monitor_pg_connections_used: `monitor_pg_connections_used` comes from `monitor.postgres`, "
             "which this test does not have"),
        ]
        with tempfile.TemporaryDirectory() as d:
            for extra, want in cases:
                with self.subTest(want=want):
                    with open(f"{d}/t.yaml", "w") as f:
                        f.write("name: bad\ntarget: http://127.0.0.1:9\nscenarios:\n"
                                "  s: { executor: shared-iterations, vus: 1, iterations: 1, "
                                "flow: [ { request: { url: / } } ] }\n" + extra)
                    p = subprocess.run([LOADCELL, "validate", f"{d}/t.yaml"], capture_output=True, text=True,
                                       timeout=30)
                    self.assertEqual(p.returncode, 104, p.stdout + p.stderr)
                    self.assertIn(want, p.stderr)


if __name__ == "__main__":
    unittest.main()
