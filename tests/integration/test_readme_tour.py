"""The README's five-minute tour, run as written: its ```sh block, command by command, in
one bash (so that `&` jobs, $TARGET_PID and $TOKEN carry over), in an empty directory that
holds only links to build/ and examples/. Every command must exit 0, and each one's
promise is checked: the files it writes, what it prints.

Two adaptations, both mechanical: the tour's fixed ports become free ones (so that the
tour cannot meet another program on 8080), and after a command that starts a server in
the background the test waits until it accepts connections (a person typing the next
command waits that long without noticing). `make` is skipped: the suite runs on a build."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import LOADCELL, ROOT, free_port

PORTS = ["8080", "8081", "9464", "5665", "6432", "6480", "8686", "8443"]


def tour_commands():
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    section = readme[readme.index("## A five-minute tour"):]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    commands, current = [], ""
    for line in block.splitlines():
        if current:
            current += "\n" + line
        elif line.strip() and not line.lstrip().startswith("#"):
            current = line
        else:
            continue
        if not current.endswith("\\"):
            commands.append(current)
            current = ""
    return commands


class ReadmeTour(unittest.TestCase):
    def test_the_tour_runs_top_to_bottom(self):
        commands = tour_commands()
        self.assertGreater(len(commands), 30)
        ports = {p: str(free_port()) for p in PORTS}
        d = tempfile.mkdtemp(prefix="loadcell-tour-")
        os.symlink(os.path.dirname(os.path.abspath(LOADCELL)), os.path.join(d, "build"))
        os.symlink(os.path.join(os.path.abspath(ROOT), "examples"), os.path.join(d, "examples"))
        script = ["set -u"]
        steps = []
        for i, cmd in enumerate(commands):
            if cmd.split()[0] == "make":
                continue
            text = cmd
            for old, new in ports.items():
                text = re.sub(rf"(?<![0-9]){old}(?![0-9])", new, text)
            steps.append(cmd)
            n = len(steps) - 1
            script.append(f'echo "@@begin {n}"')
            script.append(text)
            script.append(f'echo "@@end {n} $?"')
            if re.search(r"&\s*(#.*)?$", text) or "& TARGET_PID" in text:  # started in the background
                port = re.search(r"(?:--listen 127\.0\.0\.1:|-accept )(\d+)", text)
                if port:
                    script.append(f"until (exec 3<>/dev/tcp/127.0.0.1/{port.group(1)}) 2>/dev/null; do sleep 0.05; done")
                api = re.search(r"--api 127\.0\.0\.1:(\d+)", text)
                if api:
                    script.append(f"until (exec 3<>/dev/tcp/127.0.0.1/{api.group(1)}) 2>/dev/null; do sleep 0.05; done")
                if "serve.log" in text:
                    script.append("until grep -q 'API token' serve.log; do sleep 0.05; done")
        script.append("jobs -p | xargs -r kill 2>/dev/null; wait")
        env = dict(os.environ, TARGET=f"http://127.0.0.1:{ports['8080']}")
        p = subprocess.run(["bash", "-c", "\n".join(script)], cwd=d, capture_output=True, text=True, timeout=900, env=env)
        out = {}
        for m in re.finditer(r"@@begin (\d+)\n(.*?)@@end \1 (\d+)\n", p.stdout, re.S):
            out[int(m.group(1))] = (m.group(2), int(m.group(3)))
        for n, cmd in enumerate(steps):
            with self.subTest(command=cmd):
                self.assertIn(n, out, f"never ran; stderr: {p.stderr[-3000:]}")
                self.assertEqual(out[n][1], 0, out[n][0][-3000:] + p.stderr[-3000:])
        text = {cmd: out.get(n, ("", 1))[0] for n, cmd in enumerate(steps)}

        def output_of(fragment):
            matches = [t for c, t in text.items() if fragment in c]
            self.assertTrue(matches, fragment)
            return matches[0]

        def exists(*names):
            for name in names:
                self.assertTrue(os.path.getsize(os.path.join(d, name)) > 0, name)

        self.assertIn("Requests/sec", output_of("-c 50 -d 5s"))
        exists("latency.hlog", "results.json", "summary.json", "baseline.json", "current.json", "merged.json",
               "merged.html", "report.html", "junit.xml", "summary.md", "series.csv", "results.ndjson", "sweep.csv",
               "payload.json", "cert.pem", "loadcell.db")
        self.assertIn("valid", output_of("validate examples/login-journey.yaml"))
        self.assertIn("no significant regression", output_of("compare baseline.json current.json"))
        self.assertIn("max rate", output_of("examples/capacity.yaml"))
        self.assertIn("N*", output_of("analyze usl sweep.csv"))
        self.assertIn("target_rss", output_of("--monitor-pid"))
        self.assertIn("merged from 4 parts", output_of("merge part-"))
        # The proxy's 200 ms latency fault is in every answer.
        proxied = output_of("quick http://127.0.0.1:6432/")
        p50 = re.search(r"p50=([\d.]+)(ms|s)", proxied)
        self.assertIsNotNone(p50, proxied)
        self.assertGreaterEqual(float(p50.group(1)) * (1000 if p50.group(2) == "s" else 1), 200, proxied)
        run = json.loads(output_of("/api/v1/runs"))
        self.assertEqual(run.get("status"), "queued", run)
        self.assertIn("Status codes: 200=", output_of("--body @payload.json"))
        self.assertIn("Status codes: 200=", output_of("https://localhost:8443/"))
        # The open model shows the 1 s stall: the worst answers waited for it.
        with open(os.path.join(d, "summary.json")) as f:
            journey = json.load(f)  # written last by the login journey
        self.assertEqual(journey["metrics"]["checks"]["fails"], 0)
        open_model = output_of("-R 1000")
        worst = re.search(r"max ([\d.]+)(ms|s)\b", open_model)
        self.assertIsNotNone(worst, open_model)
        self.assertGreaterEqual(float(worst.group(1)) * (1000 if worst.group(2) == "s" else 1), 500, open_model)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
