"""`tag_from`: which instance answered. Two built-in targets behind a real nginx balancing
round-robin, which names the upstream that served each response (`X-Served-By:
$upstream_addr`, as real balancers do): the run tags every response with it, so each
instance has its own count and latency — exactly what each target served — and the
`balance` finding stays quiet at 50/50 and speaks when an upstream weight makes it 75/25."""
import json
import os
import shutil
import subprocess
import tempfile
import textwrap
import unittest

from harness import LOADCELL, NGINX_HEAD, Target, free_port, wait_for_port

NGINX = NGINX_HEAD + """\
    upstream app {{
        server 127.0.0.1:{a} weight={wa};
        server 127.0.0.1:{b};
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            add_header X-Served-By $upstream_addr always;
        }}
    }}
}}
"""

TEST = """\
name: balance
target: http://127.0.0.1:{port}
defaults:
  tag_from: {{ header: X-Served-By }}
scenarios:
  api:
    executor: shared-iterations
    vus: 4
    iterations: 2000
    flow:
      - request: {{ name: health, url: /health }}
thresholds:
  "http_req_duration{{instance:127.0.0.1:{a}}}": ["p(95)<500"]
"""


class TagFrom(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a = Target("--threads", "1")
        cls.b = Target("--threads", "1")

    @classmethod
    def tearDownClass(cls):
        cls.a.stop()
        cls.b.stop()

    def run_behind_nginx(self, weight_a):
        d = tempfile.mkdtemp(prefix="loadcell-tagfrom-")
        port = free_port()
        with open(f"{d}/nginx.conf", "w") as f:
            f.write(NGINX.format(dir=d, a=self.a.port, b=self.b.port, wa=weight_a, port=port))
        nginx = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", d, "-c", f"{d}/nginx.conf",
                                  "-e", f"{d}/error.log"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port)
            with open(f"{d}/t.yaml", "w") as f:
                f.write(TEST.format(port=port, a=self.a.port))
            p = subprocess.run([LOADCELL, "run", f"{d}/t.yaml", "-q", "--out", f"{d}/r.json"], capture_output=True,
                               text=True, timeout=120)
            with open(f"{d}/r.json") as f:
                return p, json.load(f)
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
            shutil.rmtree(d, ignore_errors=True)

    def counts(self, doc):
        rows = {b["value"]: b["reqs"] for b in doc["breakdowns"] if b["tag"] == "instance"}
        return rows.get(f"127.0.0.1:{self.a.port}", 0), rows.get(f"127.0.0.1:{self.b.port}", 0)

    def test_round_robin_is_even_and_each_instance_is_tagged(self):
        p, doc = self.run_behind_nginx(1)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        a, b = self.counts(doc)
        self.assertEqual(a + b, 2000)
        self.assertAlmostEqual(a / 2000, 0.5, delta=0.02)
        self.assertEqual(doc["meta"]["instance_tags"], ["instance"])
        self.assertIn("requests by instance", p.stdout.replace("instance\n", "instance\n"))
        self.assertIn(f"127.0.0.1:{self.a.port}", p.stdout)
        self.assertFalse([f for f in doc["findings"] if f["rule"] == "balance"], doc["findings"])
        # The threshold on one instance judged that instance's samples alone.
        t = doc["thresholds"][0]
        self.assertEqual((t["ok"], t["no_data"]), (True, False))

    def test_an_uneven_weight_raises_the_finding(self):
        p, doc = self.run_behind_nginx(3)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        a, b = self.counts(doc)
        self.assertEqual(a + b, 2000)
        self.assertAlmostEqual(a / 2000, 0.75, delta=0.02)
        balance = [f["text"] for f in doc["findings"] if f["rule"] == "balance"]
        self.assertEqual(len(balance), 1, doc["findings"])
        self.assertRegex(balance[0], r"^uneven load balancing over 2 values of instance: .* \(even: 50\.0% each; "
                                     r"Jain's fairness index of the counts 0\.[78]\d\d\)$")
        self.assertRegex(balance[0], rf"127\.0\.0\.1:{self.a.port} 7\d\.\d%")

    def test_mistakes_are_named(self):
        with tempfile.TemporaryDirectory() as d:
            for text, want in [("tag_from: { header: X-Served-By, json: $.x }", "exactly one of `json`, `header`"),
                               ("tag_from: { header: X, as: status }", "`status` is a built-in tag"),
                               ("tag_from: { heder: X }", "defaults.tag_from.heder: unknown key `heder`")]:
                with self.subTest(want=want):
                    with open(f"{d}/t.yaml", "w") as f:
                        f.write("target: http://127.0.0.1:9\ndefaults:\n  " + text + "\nscenarios:\n  s: { executor: "
                                "shared-iterations, vus: 1, iterations: 1, flow: [ { request: { url: / } } ] }\n")
                    p = subprocess.run([LOADCELL, "validate", f"{d}/t.yaml"], capture_output=True, text=True,
                                       timeout=30)
                    self.assertEqual(p.returncode, 104, p.stderr)
                    self.assertIn(want, p.stderr)


if __name__ == "__main__":
    unittest.main()
