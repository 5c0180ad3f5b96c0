"""setup, teardown and vu_init against a real HTTP server that records every request:
setup runs once and every VU sees what it left, also 4 generators of a split run through
`loadcell setup -o`, `run --setup-data` and `loadcell teardown`; teardown runs after the run, also after
SIGINT, and sees setup's values; a setup that cannot run to its end stops the test before
it starts."""
import json
import os
import signal
import subprocess
import tempfile
import textwrap
import unittest

from harness import LOADCELL, RecordingServer, wait_until

TEST = """\
target: {url}
setup:
  - request: {{ method: POST, url: /setup, json: {{ run: "{{{{ uuid() }}}}" }} }}
  - set: {{ run_id: "{{{{ uuid() }}}}", tenant: acme }}
scenarios:
  api:
    executor: {executor}
    vus: 4
    {load}
    flow:
      - request: {{ url: "/work/{{{{ setup.tenant }}}}", headers: {{ X-Run: "{{{{ setup.run_id }}}}" }} }}
      - think: 10ms
teardown:
  - request: {{ method: DELETE, url: "/runs/{{{{ setup.run_id }}}}" }}
"""


def write_test(url, executor="shared-iterations", load="iterations: 40"):
    d = tempfile.mkdtemp(prefix="loadcell-life-")
    path = os.path.join(d, "test.yaml")
    with open(path, "w") as f:
        f.write(TEST.format(url=url, executor=executor, load=load))
    return d, path


class SetupAndTeardown(unittest.TestCase):
    def test_setup_once_every_vu_sees_it_teardown_after(self):
        with RecordingServer() as srv:
            d, path = write_test(srv.url)
            p = subprocess.run([LOADCELL, "run", path, "-q", "-t", "2", "--summary-export", f"{d}/s.json"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            reqs = list(srv.requests)
        self.assertEqual([r[1] for r in reqs].count("/setup"), 1)
        self.assertEqual(reqs[0][1], "/setup")  # before any VU's request
        work = [r for r in reqs if r[1].startswith("/work/")]
        self.assertEqual(len(work), 40)
        self.assertEqual({r[1] for r in work}, {"/work/acme"})
        run_ids = {r[2]["X-Run"] for r in work}
        self.assertEqual(len(run_ids), 1)
        self.assertEqual(reqs[-1][0], "DELETE")
        self.assertEqual(reqs[-1][1], f"/runs/{run_ids.pop()}")
        self.assertIn("loadcell: setup: 1 request (0 failed); run_id, tenant", p.stderr)
        self.assertIn("loadcell: teardown: 1 request (0 failed)", p.stderr)
        # Setup's and teardown's requests are not the run's.
        with open(f"{d}/s.json") as f:
            self.assertEqual(json.load(f)["metrics"]["http_reqs"]["count"], 40)

    def test_four_segments_share_one_setup(self):
        with RecordingServer() as srv:
            d, path = write_test(srv.url)
            p = subprocess.run([LOADCELL, "setup", path, "-o", f"{d}/setup.json"], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(f"{d}/setup.json") as f:
                data = json.load(f)
            self.assertEqual(set(data), {"run_id", "tenant"})
            for k in range(1, 5):
                p = subprocess.run([LOADCELL, "run", path, "-q", "--segment", f"{k}/4", "--setup-data",
                                    f"{d}/setup.json"], capture_output=True, text=True, timeout=60)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            p = subprocess.run([LOADCELL, "teardown", path, "--setup-data", f"{d}/setup.json"], capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            reqs = list(srv.requests)
        self.assertEqual([r[1] for r in reqs].count("/setup"), 1)
        work = [r for r in reqs if r[1].startswith("/work/")]
        self.assertEqual(len(work), 40)  # 10 per segment
        self.assertEqual({r[2]["X-Run"] for r in work}, {data["run_id"]})
        # The generators given --setup-data leave teardown to `loadcell teardown`: once.
        self.assertEqual([r[1] for r in reqs if r[0] == "DELETE"], [f"/runs/{data['run_id']}"])

    def test_teardown_runs_after_sigint(self):
        with RecordingServer() as srv:
            d, path = write_test(srv.url, "constant-vus", "duration: 60s")
            proc = subprocess.Popen([LOADCELL, "run", path, "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
            wait_until(lambda: sum(1 for r in srv.requests if r[1].startswith("/work/")) >= 20, 30,
                       "the run's first requests")
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
            reqs = list(srv.requests)
        self.assertEqual(proc.returncode, 105, out + err)
        self.assertEqual(reqs[-1][0], "DELETE", err)
        run_id = reqs[-2][2].get("X-Run") or [r for r in reqs if r[1].startswith("/work/")][0][2]["X-Run"]
        self.assertEqual(reqs[-1][1], f"/runs/{run_id}")
        self.assertIn("loadcell: teardown: 1 request (0 failed)", err)

    def test_a_setup_that_cannot_finish_stops_the_test(self):
        with RecordingServer() as srv:
            d = tempfile.mkdtemp(prefix="loadcell-life-")
            path = os.path.join(d, "test.yaml")
            with open(path, "w") as f:
                f.write(textwrap.dedent(f"""\
                    target: {srv.url}
                    setup:
                      - request: {{ url: /setup, capture: [ {{ json: $.token, as: token }} ] }}
                      - request: {{ url: "/use/{{{{ token }}}}" }}
                    scenarios:
                      api: {{ executor: shared-iterations, flow: [ {{ request: {{ url: /work }} }} ] }}
                    """))
            p = subprocess.run([LOADCELL, "run", path, "-q"], capture_output=True, text=True, timeout=60)
            reqs = [r[1] for r in srv.requests]
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("setup did not run to its end", p.stderr)
        self.assertIn("the test did not start", p.stderr)
        self.assertEqual(reqs, ["/setup"])

    def test_setup_names_are_checked(self):
        d, path = write_test("http://127.0.0.1:1")
        with open(path) as f:
            text = f.read().replace("setup.tenant", "setup.tenat")
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run([LOADCELL, "validate", path], capture_output=True, text=True)
        self.assertEqual(p.returncode, 104)
        self.assertIn("the test's `setup` does not capture or set `tenat` (did you mean `setup.tenant`?)", p.stderr)


if __name__ == "__main__":
    unittest.main()
