"""Defects a new user met (#16): each test here failed on the main before its fix.
Real servers on 127.0.0.1 (nginx, Python's http.server, the built-in target)."""
import json
import os
import subprocess
import tempfile
import textwrap
import unittest

from harness import LOADCELL, Nginx, RecordingServer, Target, free_port
from test_run import run_test


def run_yaml(yaml_text, *args, timeout=120):
    """`loadcell run` of YAML text with --summary-export: (process, summary, directory)."""
    return run_test(yaml_text, *args, timeout=timeout)


class TemplatedUrls(unittest.TestCase):
    """An absolute URL after rendering wins (k6's rule), per request."""

    def test_vars_and_per_request_templates_go_to_their_own_host(self):
        with Nginx() as a, Nginx() as b:
            a0, b0 = a.requests_served(), b.requests_served()
            p, s, _ = run_yaml(f"""
                target: {a.url.rstrip('/')}
                vars: {{ base: "{b.url.rstrip('/')}" }}
                scenarios:
                  s:
                    executor: shared-iterations
                    vus: 4
                    iterations: 50
                    flow:
                      - request: {{ name: at-b, url: "{{{{ vars.base }}}}/x", check: [ {{ status: 200 }} ] }}
                      - set: {{ other: "{{{{ vars.base }}}}" }}
                      - request: {{ name: at-b-again, url: "{{{{ other }}}}/y?i={{{{ iteration }}}}" }}
                      - request: {{ name: at-a, url: /z }}
                      - request: {{ name: at-b-root, url: "{{{{ vars.base }}}}", check: [ {{ status: 200 }} ] }}
            """)
            self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
            # stub_status counts its own request too.
            self.assertEqual(b.requests_served() - b0 - 1, 150)
            self.assertEqual(a.requests_served() - a0 - 1, 50)
        self.assertEqual(s["metrics"]["http_reqs"]["count"], 200)
        self.assertEqual(s["metrics"]["http_req_failed"]["passes"], 0)

    def test_nothing_listening_there_fails_instead_of_reaching_the_target(self):
        dead = free_port()
        with Nginx() as a:
            a0 = a.requests_served()
            p, s, _ = run_yaml(f"""
                target: {a.url.rstrip('/')}
                vars: {{ base: "http://127.0.0.1:{dead}" }}
                scenarios:
                  s:
                    executor: shared-iterations
                    vus: 1
                    iterations: 5
                    flow:
                      - set: {{ where: "{{{{ vars.base }}}}" }}
                      - request: {{ name: fixed, url: "{{{{ vars.base }}}}/x" }}
                      - request: {{ name: rendered, url: "{{{{ where }}}}/x" }}
            """)
            self.assertEqual(a.requests_served() - a0 - 1, 0)
        self.assertEqual(s["metrics"]["http_reqs"]["count"], 10)
        self.assertEqual(s["metrics"]["http_req_failed"]["passes"], 10)
        self.assertEqual(s["metrics"]["http_req_errors{kind:connect}"]["count"] if "http_req_errors{kind:connect}" in s["metrics"]
                         else s["metrics"]["http_req_errors"]["count"], 10)

    def test_a_templated_path_without_target_says_so(self):
        with Nginx() as a:
            p, s, _ = run_yaml(f"""
                scenarios:
                  s:
                    executor: shared-iterations
                    vus: 1
                    iterations: 3
                    flow:
                      - set: {{ where: "/relative" }}
                      - request: {{ name: r, url: "{{{{ where }}}}" }}
            """)
        self.assertIn("the URL rendered to `/relative`, a path, and the test has no `target`", p.stdout + p.stderr)


class TypedJsonBodies(unittest.TestCase):
    """A template that is a whole JSON scalar keeps its value's type; byte-exact bodies."""

    def test_bodies_as_sent(self):
        d = tempfile.mkdtemp(prefix="loadcell-json-")
        with open(os.path.join(d, "users.csv"), "w") as f:
            f.write('id,name\n0042,"Ann ""the"" Admin"\n7,Bob\n')
        with RecordingServer() as srv:
            yaml_text = textwrap.dedent(f"""
                target: {srv.url}
                vars: {{ limit: 25, label: "25", on: true }}
                data: {{ users: {{ file: users.csv }} }}
                scenarios:
                  s:
                    executor: per-vu-iterations
                    vus: 1
                    iterations: 2
                    flow:
                      - request: {{ name: item, url: /item, capture: [ {{ json: "$", as: whole }} ] }}
                      - request:
                          name: post
                          method: POST
                          url: /post
                          json:
                            vu: "{{{{ vu }}}}"
                            it: "{{{{ iteration * 10 }}}}"
                            limit: "{{{{ vars.limit }}}}"
                            label: "{{{{ vars.label }}}}"
                            on: "{{{{ vars.on }}}}"
                            id: "{{{{ data.users.id }}}}"
                            num: "{{{{ data.users.name | string }}}}"
                            seven: "{{{{ vars.limit | string }}}}"
                            name: "user {{{{ data.users.name }}}}"
                            echo: "{{{{ whole }}}}"
                            fixed: [1, "two", null]
            """)
            path = os.path.join(d, "t.yaml")
            with open(path, "w") as f:
                f.write(yaml_text)
            p = subprocess.run([LOADCELL, "run", path], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
            bodies = [body for (m, path_, h, body) in srv.requests if m == "POST"]
        self.assertEqual(bodies, [
            b'{"vu":1,"it":0,"limit":25,"label":"25","on":true,"id":"0042","num":"Ann \\"the\\" Admin","seven":"25",'
            b'"name":"user Ann \\"the\\" Admin","echo":{},"fixed":[1,"two",null]}',
            b'{"vu":1,"it":10,"limit":25,"label":"25","on":true,"id":"7","num":"Bob","seven":"25",'
            b'"name":"user Bob","echo":{},"fixed":[1,"two",null]}',
        ])

    def test_number_filter_on_a_column_that_is_not_a_number(self):
        d = tempfile.mkdtemp(prefix="loadcell-json-")
        with open(os.path.join(d, "users.csv"), "w") as f:
            f.write('id\n12\nabc\n')
        with RecordingServer() as srv:
            path = os.path.join(d, "t.yaml")
            with open(path, "w") as f:
                f.write(textwrap.dedent(f"""
                    target: {srv.url}
                    data: {{ users: {{ file: users.csv }} }}
                    scenarios:
                      s:
                        executor: per-vu-iterations
                        vus: 1
                        iterations: 2
                        flow:
                          - request: {{ name: post, method: POST, url: /p, json: {{ id: "{{{{ data.users.id | number }}}}" }} }}
                """))
            p = subprocess.run([LOADCELL, "run", path], capture_output=True, text=True, timeout=60)
            bodies = [body for (m, path_, h, body) in srv.requests]
        # Row 1 ("abc") cannot render: that iteration ends there, nothing is sent for it.
        self.assertEqual(bodies[0], b'{"id":12}')
        self.assertTrue(all(b == b'{"id":12}' for b in bodies), bodies)
        self.assertIn('| number: "abc" is not a number', p.stdout + p.stderr)


NO_DATA_TEST = """
    target: {target}
    scenarios:
      s:
        executor: shared-iterations
        vus: 1
        iterations: 5
        flow:
          - request: {{ name: home, url: / }}
    thresholds:
      "http_req_duration{{status:500}}": ["p(99)<1"]
      http_reqs: ["count==5"]
"""


class ThresholdsWithoutData(unittest.TestCase):
    def test_no_data_is_shown_warned_exported_and_strict_fails(self):
        with Target() as t:
            d = tempfile.mkdtemp(prefix="loadcell-nodata-")
            p, s, _ = run_yaml(NO_DATA_TEST.format(target=t.url.rstrip("/")), "--out", f"{d}/r.json")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("? http_req_duration{status:500}: p(99)<1 (no data)", p.stdout)
            self.assertIn("✓ http_reqs: count==5", p.stdout)
            self.assertIn("WARNING: threshold http_req_duration{status:500}: p(99)<1 had no data", p.stdout)
            self.assertEqual(s["metrics"]["http_req_duration{status:500}"]["thresholds"]["p(99)<1"],
                             {"ok": True, "no_data": True})
            with open(f"{d}/r.json") as f:
                outcome = [o for o in json.load(f)["thresholds"] if o["metric"] == "http_req_duration{status:500}"][0]
            self.assertEqual((outcome["ok"], outcome["no_data"]), (True, True))
            junit = subprocess.run([LOADCELL, "report", f"{d}/r.json", "--junit", f"{d}/j.xml"], capture_output=True,
                                   text=True, timeout=60)
            self.assertEqual(junit.returncode, 0, junit.stderr)
            with open(f"{d}/j.xml") as f:
                xml = f.read()
            self.assertIn('<testsuite name="thresholds" tests="2" failures="0" skipped="1">', xml)
            self.assertIn('<skipped message="no data: no sample matched"/>', xml)

            p, s, _ = run_yaml(NO_DATA_TEST.format(target=t.url.rstrip("/")), "--strict-thresholds")
            self.assertEqual(p.returncode, 99, p.stdout + p.stderr)
            self.assertIn("✗ http_req_duration{status:500}: p(99)<1 (observed no data)", p.stdout)
            self.assertEqual(s["metrics"]["http_req_duration{status:500}"]["thresholds"]["p(99)<1"],
                             {"ok": False, "no_data": True})
            p, s, _ = run_yaml("strict_thresholds: true\n" + textwrap.dedent(NO_DATA_TEST.format(target=t.url.rstrip("/"))))
            self.assertEqual(p.returncode, 99, p.stdout + p.stderr)

    def test_validate_rejects_a_group_filter_without_its_colons(self):
        d = tempfile.mkdtemp(prefix="loadcell-nodata-")
        with open(f"{d}/t.yaml", "w") as f:
            f.write(textwrap.dedent("""
                target: http://127.0.0.1:1
                scenarios:
                  s:
                    executor: shared-iterations
                    flow:
                      - group: { name: conflict, steps: [ { request: { url: /x } } ] }
                thresholds:
                  "http_req_duration{group:conflict}": ["p(99)<1"]
            """))
        p = subprocess.run([LOADCELL, "validate", f"{d}/t.yaml"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 104)
        self.assertIn("t.yaml:9:3: thresholds.http_req_duration{group:conflict}: no group has the path `conflict` "
                      "(did you mean `group:::conflict`?)", p.stderr)



class K6Flags(unittest.TestCase):
    def test_run_u_and_d_as_k6_spells_them(self):
        """`run -u 2 -d 1s t.yaml` was "The following arguments were not expected: t.yaml 1s -d -u"."""
        with Target() as t:
            p, s, _ = run_yaml(f"""
                target: {t.url.rstrip('/')}
                scenarios:
                  s:
                    executor: shared-iterations
                    flow: [ {{ request: {{ url: / }} }} ]
            """, "-u", "2", "-d", "1s")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(s["metrics"]["vus_max"]["value"], 2)
        self.assertIn("scenario s (constant-vus)", p.stdout)



class ArrivalRateVus(unittest.TestCase):
    def test_every_pre_allocated_vu_takes_its_turn(self):
        """20 pre-allocated VUs, tenant t{vu % 50}: 2,000 iterations once showed 2 tenants."""
        with Target() as t:
            d = tempfile.mkdtemp(prefix="loadcell-rr-")
            p, s, _ = run_yaml(f"""
                target: {t.url.rstrip('/')}
                scenarios:
                  s:
                    executor: constant-arrival-rate
                    rate: 200
                    duration: 2s
                    pre_allocated_vus: 20
                    tags: {{ tenant: "t{{{{ vu % 50 }}}}" }}
                    flow: [ {{ request: {{ url: / }} }} ]
            """, "--out", f"{d}/r.json")
            self.assertEqual(p.returncode, 0, p.stderr)
        with open(f"{d}/r.json") as f:
            doc = json.load(f)
        per_tenant, dropped = {}, 0
        for h in doc["histograms"]:
            if h["metric"] == "iterations":
                per_tenant[h["tags"]["tenant"]] = per_tenant.get(h["tags"]["tenant"], 0) + h["count"]
            elif h["metric"] == "dropped_iterations":
                dropped += h["count"]
        self.assertEqual(sorted(per_tenant), sorted(f"t{v}" for v in range(1, 21)))
        self.assertEqual(sum(per_tenant.values()) + dropped, 400)
        # Round robin: each VU ran about its share of the 400 (20); last-in first-out gave
        # most of them none.
        self.assertGreaterEqual(min(per_tenant.values()), 10, per_tenant)


if __name__ == "__main__":
    unittest.main()
