"""`sql` steps against a real PostgreSQL started by the test (initdb + pg_ctl in a temporary
directory): exact row counts, captures and checks, prepared statements, and failures
(rejected statements, a server that is down, timeouts) counted with the server's words."""
import unittest

from harness import Postgres, free_port, run_yaml


def run_test(yaml_text, *args, timeout=120):
    return run_yaml(yaml_text, *args, timeout=timeout, prefix="loadcell-sql-")


def metric(s, name, field="count"):
    return s["metrics"].get(name, {}).get(field, 0)


class AgainstPostgres(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = Postgres()
        cls.pg.sql("create table events (id bigserial primary key, vu int not null, payload text not null)")

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()

    def test_1000_inserts_per_second_leave_exactly_the_reported_rows(self):
        before = int(self.pg.sql("select count(*) from events"))
        p, s = run_test(f"""
            databases:
              main: {{ url: "{self.pg.url}", pool: 10 }}
            scenarios:
              writes:
                executor: constant-arrival-rate
                rate: 1000
                duration: 10s
                pre_allocated_vus: 50
                max_vus: 200
                flow:
                  - sql:
                      name: insert_event
                      db: main
                      query: "insert into events (vu, payload) values ($1, $2)"
                      params: ["{{{{ vu }}}}", "event {{{{ iteration }}}}"]
                      check: [ {{ rows: 1 }} ]
            thresholds:
              "sql_query_duration{{name:insert_event}}": ["p(95)<250"]
              sql_query_failed: ["rate==0"]
        """, timeout=180)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        rows = int(self.pg.sql("select count(*) from events")) - before
        self.assertEqual(metric(s, "sql_queries"), 10000)
        self.assertEqual(rows, metric(s, "sql_queries"))
        self.assertEqual(metric(s, "dropped_iterations"), 0)
        self.assertGreater(s["metrics"]["sql_query_duration"]["p(95)"], 0)
        self.assertIn("sql_query_duration", p.stdout)
        self.assertEqual(metric(s, "checks", "fails"), 0)
        self.assertEqual(metric(s, "sql_query_failed", "passes"), 0)

    def test_captures_feed_the_next_query_and_checks_count_rows(self):
        p, s = run_test(f"""
            databases:
              main: {{ url: "{self.pg.url}", pool: 4 }}
            scenarios:
              journey:
                executor: per-vu-iterations
                vus: 8
                iterations: 25
                flow:
                  - sql:
                      name: create
                      db: main
                      query: "insert into events (vu, payload) values ($1, 'journey-' || $2) returning id, payload"
                      params: ["{{{{ vu }}}}", "{{{{ vu }}}}-{{{{ iteration }}}}"]
                      capture: [ {{ column: id, as: event_id }}, {{ column: payload, as: text }} ]
                      check: [ {{ rows: 1 }} ]
                  - sql:
                      name: read
                      db: main
                      query: "select payload from events where id = $1 and payload = $2"
                      params: ["{{{{ event_id }}}}", "{{{{ text }}}}"]
                      check: [ {{ rows: 1, name: found again }}, {{ rows: 2, name: never two }} ]
                  - request: {{ url: "http://127.0.0.1:{free_port()}/", name: unrelated-http-down }}
        """)
        self.assertIn(p.returncode, (0, 99), p.stdout + p.stderr)
        self.assertEqual(metric(s, "sql_queries"), 400)
        self.assertEqual(metric(s, "iterations"), 200)
        self.assertEqual(s["metrics"]["checks"]["passes"], 400)   # rows == 1 twice per iteration
        self.assertEqual(s["metrics"]["checks"]["fails"], 200)    # "never two" fails every time
        self.assertEqual(metric(s, "capture_failures"), 0)
        self.assertEqual(int(self.pg.sql("select count(*) from events where payload like 'journey-%'")), 200)

    def test_rejected_statement_is_counted_with_the_servers_message(self):
        p, s = run_test(f"""
            databases:
              main: {{ url: "{self.pg.url}" }}
            scenarios:
              bad:
                executor: per-vu-iterations
                vus: 3
                iterations: 4
                flow:
                  - sql: {{ db: main, name: missing, query: "select * from no_such_table where id = $1", params: ["1"] }}
                  - sql: {{ db: main, name: fine, query: "select 1" }}
            thresholds:
              sql_query_failed: ["rate<0.1"]
        """)
        self.assertEqual(p.returncode, 99, p.stdout + p.stderr)
        self.assertEqual(metric(s, "sql_queries"), 24)
        self.assertEqual(metric(s, "sql_query_failed", "passes"), 12)
        self.assertIn('relation "no_such_table" does not exist', p.stdout)
        self.assertIn("SQLSTATE 42P01", p.stdout)

    def test_timeout_fails_the_query_and_the_pool_recovers(self):
        p, s = run_test(f"""
            databases:
              main: {{ url: "{self.pg.url}", pool: 2 }}
            scenarios:
              slow:
                executor: per-vu-iterations
                vus: 2
                iterations: 3
                flow:
                  - sql: {{ db: main, name: sleepy, query: "select pg_sleep(5)", timeout: 300ms }}
                  - sql: {{ db: main, name: quick, query: "select 1", check: [ {{ rows: 1 }} ] }}
        """)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(metric(s, "sql_query_failed", "passes"), 6)
        self.assertEqual(s["metrics"]["checks"]["passes"], 6)
        self.assertIn("sql sleepy (database main): no result within 300.00ms", p.stdout)


class DatabaseDown(unittest.TestCase):
    def test_queries_fail_with_libpqs_message_and_the_run_ends(self):
        p, s = run_test(f"""
            databases:
              main: {{ url: "postgres://loadcell@127.0.0.1:{free_port()}/postgres?connect_timeout=2", pool: 2 }}
            scenarios:
              down:
                executor: per-vu-iterations
                vus: 2
                iterations: 5
                flow:
                  - sql: {{ db: main, query: "select 1" }}
                  - think: 20ms
        """)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(metric(s, "sql_queries"), 10)
        self.assertEqual(metric(s, "sql_query_failed", "passes"), 10)
        self.assertIn("Connection refused", p.stdout)


if __name__ == "__main__":
    unittest.main()
