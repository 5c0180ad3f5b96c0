"""Hostile and careless test files (#17): a YAML bomb, numbers that are not numbers, plans
that cannot fit, bytes that are not UTF-8, keys given twice, empty and absurdly deep files.
Each is refused at `validate` with file:line:col and exit 104 — in bounded memory — and a
run that does run out of memory ends with its results written (exit 1), never an abort."""
import json
import os
import subprocess
import tempfile
import textwrap
import unittest

from harness import LOADCELL, Target

SANITIZED = os.environ.get("LOADCELL_SANITIZED") in ("1", "ON", "TRUE")


def write(d, name, text):
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(text if isinstance(text, bytes) else textwrap.dedent(text).encode())
    return path


def bounded(args, mib=1024, timeout=60):
    """Runs loadcell with at most `mib` of memory: RLIMIT_AS on a plain build, ASan's own
    limit on a sanitized one (ASan reserves terabytes of address space up front)."""
    env = dict(os.environ)
    cmd = [LOADCELL, *args]
    if SANITIZED:
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + f":hard_rss_limit_mb={mib}"
    else:
        cmd = ["prlimit", f"--as={mib << 20}", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def billion_laughs():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in "bcdefghi":
        prev = chr(ord(n) - 1)
        lines.append(f"{n}: &{n} [" + ",".join([f"*{prev}"] * 10) + "]")
    body = "\n".join("            " + line for line in lines)
    return ("target: http://127.0.0.1:1\nscenarios:\n  s:\n    executor: shared-iterations\n    flow:\n"
            "      - request:\n          url: /x\n          method: POST\n          json:\n" + body + "\n")


HEAD = "target: http://127.0.0.1:1\nscenarios:\n  s:\n"


class HostileFiles(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="loadcell-hostile-")

    def refused(self, name, text, expected, command="validate", extra=()):
        path = write(self.dir, name, text)
        p = bounded([command, path, *extra])
        self.assertEqual(p.returncode, 104, p.stderr + p.stdout)
        self.assertIn(expected, p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        return p

    def test_a_yaml_bomb_is_refused_in_bounded_memory(self):
        bomb = billion_laughs()
        self.assertLess(len(bomb), 1200)
        for command in ("validate", "run"):
            self.refused("bomb.yaml", bomb, "bomb.yaml:16:16: scenarios.s.flow[0].request.json.g: this value expands to "
                         "more than 10485760 bytes (YAML aliases repeat what they name); --max-value-size raises the "
                         "limit", command=command)
        # The limit is the user's to move: a smaller one refuses a level earlier.
        self.refused("bomb.yaml", bomb, "bomb.yaml:15:16: scenarios.s.flow[0].request.json.f: this value expands to "
                     "more than 1048576 bytes", extra=("--max-value-size", "1MB"))

    def test_numbers_that_are_not_numbers(self):
        cases = [
            ("rate: nan", "scenarios.s.rate: expected a finite number, got \"nan\""),
            ("rate: inf", "scenarios.s.rate: expected a finite number, got \"inf\""),
            ("rate: .inf", "scenarios.s.rate: expected a number, got \".inf\""),
            ("rate: 1e-300", "scenarios.s.rate: must be 0 or at least 1e-8"),
            ("rate: 1e30", "scenarios.s.rate: must be at most 1e+09"),
        ]
        for line, expected in cases:
            with self.subTest(line=line):
                self.refused("rate.yaml", HEAD + "    executor: constant-arrival-rate\n    " + line +
                             "\n    duration: 1s\n    pre_allocated_vus: 1\n    flow: [ { request: { url: /x } } ]\n",
                             "rate.yaml:5:11: " + expected)
        self.refused("vus.yaml", HEAD + "    executor: constant-vus\n    vus: 99999999999999999999999\n    duration: 1s\n"
                     "    flow: [ { request: { url: /x } } ]\n",
                     "vus.yaml:5:10: scenarios.s.vus: must be at most 1000000000000, got 99999999999999999999999")
        self.refused("prob.yaml", HEAD + "    executor: constant-vus\n    vus: 1\n    duration: 1s\n    flow: [ { request: { url: /x } } ]\n"
                     "faults:\n  - { kind: reset, at: 0s, duration: 1s, probability: nan }\n",
                     "prob.yaml:9:55: faults[0].probability: expected a finite number, got \"nan\"")
        self.refused("long.yaml", HEAD + "    executor: constant-vus\n    vus: 1\n    duration: 200000h\n    flow: [ { request: { url: /x } } ]\n",
                     "long.yaml:6:15: scenarios.s.duration: invalid duration \"200000h\": at most 744h (31 days)")

    def test_a_plan_that_does_not_fit_this_generator(self):
        text = HEAD + "    executor: constant-vus\n    vus: 1000000000\n    duration: 1s\n    flow: [ { request: { url: /x } } ]\n"
        path = write(self.dir, "huge.yaml", text)
        p = bounded(["run", path, "-q"])
        self.assertEqual(p.returncode, 104, p.stderr)
        self.assertRegex(p.stderr, r"huge\.yaml: 1000000000 VUs at the peak need 1000000064 open files .* at most \d+ VUs "
                                   r"fit on this generator")
        p = bounded(["validate", path])
        self.assertEqual(p.returncode, 0, p.stderr)  # another machine, or a segment, may be bigger
        self.assertIn("loadcell: warning: ", p.stderr)
        self.assertIn("VUs fit on this generator", p.stderr)

    def test_text_that_is_not_a_test(self):
        self.refused("utf.yaml", b"target: http://127.0.0.1:1\nname: caf\xe9\n", "utf.yaml:2:10: invalid UTF-8 (byte 0xE9)")
        self.refused("dupkey.yaml", HEAD + "    executor: constant-vus\n    duration: 1s\n    duration: 2s\n"
                     "    flow: [ { request: { url: /x } } ]\n",
                     "dupkey.yaml:6:5: scenarios.s.duration: duplicate key `duration` (first at line 5)")
        self.refused("dupscen.yaml", HEAD + "    executor: constant-vus\n    duration: 1s\n    flow: [ { request: { url: /x } } ]\n"
                     "  s:\n    executor: constant-vus\n    duration: 1s\n    flow: [ { request: { url: /y } } ]\n",
                     "dupscen.yaml:7:3: scenarios.s: duplicate key `s` (first at line 3)")
        self.refused("empty.yaml", "", "empty.yaml:1:1: the file holds no test definition (it is empty or only comments)")
        self.refused("comments.yaml", "# a test, some day\n", "comments.yaml:1:1: the file holds no test definition")
        self.refused("deepflow.yaml", "scenarios: " + "[" * 100000 + "]" * 100000 + "\n",
                     "deepflow.yaml:1:268: nested more than 64 levels deep")
        self.refused("deepblock.yaml", "scenarios:\n" + "".join("  " * i + f"k{i}:\n" for i in range(3000)),
                     "deepblock.yaml:500:1002: nested too deeply for the YAML parser")
        self.refused("deep70.yaml", "scenarios:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 80)) + " " * 160 + "x: 1\n",
                     "nested more than 64 levels deep")

    def test_a_password_in_a_url_is_not_a_request_name(self):
        path = write(self.dir, "pw.yaml", """
            target: ${TARGET}
            scenarios:
              s:
                executor: shared-iterations
                iterations: 3
                flow: [ { request: { url: "/x?pw=${API_PASSWORD}", check: [ { status: 200 } ] } } ]
        """)
        with Target() as t:
            p = bounded(["run", path, "-e", f"TARGET={t.url.rstrip('/')}", "-e", "API_PASSWORD=hunter2-4711",
                         "--out", f"{self.dir}/r.json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(f"{self.dir}/r.json") as f:
            text = f.read()
        for where in (text, p.stdout, p.stderr):
            self.assertNotIn("hunter2-4711", where)
        self.assertIn("GET /x?pw=${API_PASSWORD}", text)

    @unittest.skipIf(SANITIZED, "RLIMIT_AS cannot bound a sanitized build")
    def test_running_out_of_memory_mid_run_writes_the_results(self):
        path = write(self.dir, "oom.yaml", """
            target: ${TARGET}
            scenarios:
              s:
                executor: constant-vus
                vus: 3000
                duration: 6s
                flow:
                  - request: { method: POST, url: /echo, body: "{{ random_string(1048576) }}" }
        """)
        with Target("--latency", "normal:3s,10ms") as t:
            p = bounded(["run", path, "-q", "-e", f"TARGET={t.url.rstrip('/')}", "--out", f"{self.dir}/r.json"],
                        mib=1400, timeout=120)
        self.assertEqual(p.returncode, 1, p.stderr[-2000:])
        self.assertRegex(p.stderr, r"loadcell: out of memory on worker \d: the run was stopped there; the results hold "
                                   r"what was measured until then")
        with open(f"{self.dir}/r.json") as f:
            doc = json.load(f)
        self.assertTrue(any("out of memory" in m for m in doc["messages"]), doc["messages"])


if __name__ == "__main__":
    unittest.main()
