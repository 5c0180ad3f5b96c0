"""The CI jobs in deploy/ci (GitHub Actions, GitLab CI) run locally: their gate commands,
taken from the job files as written, run a test, gate on its thresholds, compare with the
stored baseline and write the Markdown comment — first with no baseline, then an A/A
comparison that passes, then a 50% slower target that fails with exit 99."""
import os
import shutil
import subprocess
import tempfile
import unittest

import yaml

from harness import LOADCELL, ROOT, Target

CI = os.path.join(ROOT, "deploy", "ci")


def load(name):
    with open(os.path.join(CI, name)) as f:
        return yaml.safe_load(f)


def github_gate():
    wf = load("github-actions.yml")
    steps = wf["jobs"]["perf"]["steps"]
    return wf, steps, next(s["run"] for s in steps if s.get("id") == "gate")


def gitlab_gate():
    job = load("gitlab-ci.yml")["performance"]
    return job, next(line for line in job["script"] if "perf-gate.sh" in line)


class CiJobs(unittest.TestCase):
    def test_job_files_have_what_the_gate_needs(self):
        wf, steps, gate = github_gate()
        triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads `on` as true
        self.assertIn("pull_request", triggers)
        self.assertIn("deploy/ci/perf-gate.sh", gate)
        self.assertTrue(any("perf/comment.md" in s.get("run", "") for s in steps))
        self.assertTrue(any(s.get("with", {}).get("path") == "perf/" for s in steps))
        job, gate = gitlab_gate()
        self.assertIn("deploy/ci/perf-gate.sh", gate)
        self.assertEqual(job["artifacts"]["reports"]["junit"], "perf/junit.xml")
        self.assertTrue(any("perf/comment.md" in line for line in job["after_script"]))

    def run_gate(self, command, target, baseline, out):
        env = dict(os.environ, LOADCELL=LOADCELL, TARGET=target.url.rstrip("/"), BASELINE=baseline, PERF_OUT=out)
        return subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    def test_gate_commands_run_locally(self):
        d = tempfile.mkdtemp(prefix="loadcell-ci-")
        _, _, gh = github_gate()
        _, gl = gitlab_gate()
        baseline = f"{d}/baseline/results.json"
        with Target("--latency", "normal:20ms,1ms") as t:
            p = self.run_gate(gh, t, baseline, f"{d}/first")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(f"{d}/first/comment.md") as f:
                comment = f.read()
            self.assertTrue(comment.startswith("### ✅ loadcell: baseline"), comment)
            self.assertIn("No baseline yet", comment)
            for name in ("results.json", "report.html", "junit.xml", "summary.json"):
                self.assertTrue(os.path.getsize(f"{d}/first/{name}") > 0, name)
            os.makedirs(os.path.dirname(baseline))
            shutil.copy(f"{d}/first/results.json", baseline)
            p = self.run_gate(gl, t, baseline, f"{d}/second")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(f"{d}/second/comment.md") as f:
                self.assertIn("### ✅ loadcell compare: no significant regression", f.read())
        with Target("--latency", "normal:20ms,1ms", "--slowdown", "1.5") as t:
            p = self.run_gate(gh, t, baseline, f"{d}/slow")
        self.assertEqual(p.returncode, 99, p.stdout + p.stderr)
        with open(f"{d}/slow/comment.md") as f:
            self.assertIn("### ❌ loadcell compare: regression", f.read())


if __name__ == "__main__":
    unittest.main()
