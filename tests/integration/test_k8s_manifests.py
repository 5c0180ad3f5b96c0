"""deploy/k8s: the manifests parse, agree with each other on what loadcell relies on (the
Indexed Job's index -> segment, the shared results volume, the metrics port the PodMonitor
scrapes), and their shell commands work: the generators' command is run here four times,
once per JOB_COMPLETION_INDEX, then the merge Job's command, against a local target."""
import json
import os
import re
import subprocess
import tempfile
import unittest

import yaml

from harness import LOADCELL, ROOT, Target, free_port

K8S = os.path.join(ROOT, "deploy", "k8s")


def load(name):
    with open(os.path.join(K8S, name)) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def one(name):
    docs = load(name)
    assert len(docs) == 1, name
    return docs[0]


class Manifests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.job = one("job.yaml")
        cls.merge = one("merge-job.yaml")
        cls.pvc = one("results-pvc.yaml")
        cls.config = one("test-configmap.yaml")
        cls.monitor = one("podmonitor.yaml")
        cls.pod = cls.job["spec"]["template"]["spec"]
        cls.container = cls.pod["containers"][0]
        cls.env = {e["name"]: e["value"] for e in cls.container["env"]}

    def test_every_file_is_in_the_kustomization(self):
        k = one("kustomization.yaml")
        self.assertEqual(k["kind"], "Kustomization")
        for r in k["resources"]:
            self.assertTrue(os.path.exists(os.path.join(K8S, r)), r)
        self.assertNotIn("merge-job.yaml", k["resources"])  # it runs after the generators

    def test_indexed_job_gives_each_pod_its_segment(self):
        spec = self.job["spec"]
        self.assertEqual((self.job["apiVersion"], self.job["kind"]), ("batch/v1", "Job"))
        self.assertEqual(spec["completionMode"], "Indexed")
        n = int(self.env["GENERATORS"])
        self.assertEqual(spec["completions"], n)
        self.assertEqual(spec["parallelism"], n)
        self.assertEqual(self.pod["restartPolicy"], "Never")
        cmd = self.container["args"][0]
        self.assertEqual(self.container["command"], ["/bin/sh", "-c"])
        self.assertIn('--segment "$((JOB_COMPLETION_INDEX + 1))/$GENERATORS"', cmd)
        self.assertIn('--generator "$JOB_COMPLETION_INDEX"', cmd)
        self.assertIn('--out "/results/part-$JOB_COMPLETION_INDEX.ndjson"', cmd)

    def test_volumes_and_ports_agree(self):
        mounts = {m["name"]: m["mountPath"] for m in self.container["volumeMounts"]}
        volumes = {v["name"]: v for v in self.pod["volumes"]}
        cmd = self.container["args"][0]
        # The test file comes from the ConfigMap, mounted where the command reads it.
        self.assertEqual(volumes["test"]["configMap"]["name"], self.config["metadata"]["name"])
        self.assertIn(f"{mounts['test']}/test.yaml", cmd)
        self.assertIn("test.yaml", self.config["data"])
        # Parts and merge share one ReadWriteMany claim.
        claim = self.pvc["metadata"]["name"]
        self.assertEqual(volumes["results"]["persistentVolumeClaim"]["claimName"], claim)
        self.assertIn("ReadWriteMany", self.pvc["spec"]["accessModes"])
        mpod = self.merge["spec"]["template"]["spec"]
        self.assertEqual(mpod["volumes"][0]["persistentVolumeClaim"]["claimName"], claim)
        self.assertEqual(mpod["containers"][0]["volumeMounts"][0]["mountPath"], mounts["results"])
        self.assertIn(f"{mounts['results']}/part-*.ndjson", mpod["containers"][0]["args"][0])
        # /metrics: the port loadcell binds is the container's `metrics` port, the
        # annotation's and the PodMonitor's.
        port = int(re.search(r"--prometheus 0\.0\.0\.0:(\d+)", cmd).group(1))
        ports = {p["name"]: p["containerPort"] for p in self.container["ports"]}
        self.assertEqual(ports["metrics"], port)
        self.assertEqual(self.job["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"], str(port))
        self.assertEqual(self.monitor["kind"], "PodMonitor")
        self.assertEqual(self.monitor["spec"]["podMetricsEndpoints"][0]["port"], "metrics")
        labels = self.job["spec"]["template"]["metadata"]["labels"]
        for k, v in self.monitor["spec"]["selector"]["matchLabels"].items():
            self.assertEqual(labels.get(k), v)
        self.assertEqual(self.container["image"], mpod["containers"][0]["image"])

    def test_bundled_test_is_valid(self):
        d = tempfile.mkdtemp(prefix="loadcell-k8s-")
        with open(f"{d}/test.yaml", "w") as f:
            f.write(self.config["data"]["test.yaml"])
        p = subprocess.run([LOADCELL, "validate", f"{d}/test.yaml"], capture_output=True, text=True,
                           env={**os.environ, "TARGET": self.env["TARGET"]})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_the_jobs_commands_run_and_merge(self):
        """The manifests' own shell commands, with the container paths mapped to a temporary
        directory and each pod's /metrics on its own local port."""
        d = tempfile.mkdtemp(prefix="loadcell-k8s-")
        os.makedirs(f"{d}/test")
        os.makedirs(f"{d}/results")
        with open(f"{d}/test/test.yaml", "w") as f:
            f.write("""
target: ${TARGET}
scenarios:
  api:
    executor: constant-arrival-rate
    rate: 100
    duration: 2s
    pre_allocated_vus: 5
    max_vus: 10
    flow:
      - request: { name: health, url: /health }
thresholds:
  http_reqs: ["count==200"]
""")

        def local(cmd, port=None):
            cmd = cmd.replace("/test/", f"{d}/test/").replace("/results/", f"{d}/results/")
            cmd = cmd.replace("--linger 30s", "--linger 0s").replace("exec loadcell ", f"exec {LOADCELL} ")
            if port:
                cmd = re.sub(r"0\.0\.0\.0:\d+", f"127.0.0.1:{port}", cmd)
            return cmd

        n = int(self.env["GENERATORS"])
        with Target() as t:
            procs = []
            for index in range(n):
                env = {**os.environ, **self.env, "TARGET": t.url.rstrip("/"), "JOB_COMPLETION_INDEX": str(index)}
                procs.append(subprocess.Popen(["/bin/sh", "-c", local(self.container["args"][0], free_port())], env=env,
                                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            for p in procs:
                _, err = p.communicate(timeout=60)
                self.assertEqual(p.returncode, 0, err)
        self.assertEqual(sorted(os.listdir(f"{d}/results")), [f"part-{i}.ndjson" for i in range(n)])
        merge = self.merge["spec"]["template"]["spec"]["containers"][0]
        p = subprocess.run(["/bin/sh", "-c", local(merge["args"][0])], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(f"{d}/results/merged.json") as f:
            merged = json.load(f)
        self.assertEqual(merged["metrics"]["http_reqs"]["count"], 200)
        self.assertEqual(len(merged["meta"]["parts"]), n)
        self.assertTrue(os.path.exists(f"{d}/results/report.html"))
        with open(f"{d}/results/summary.json") as f:
            self.assertTrue(json.load(f)["metrics"]["http_reqs"]["thresholds"]["count==200"]["ok"])


if __name__ == "__main__":
    unittest.main()
