"""Runs one bundled example against a fresh `loadcell target` and checks it passes its
own thresholds (exit 0) with real traffic. Usage: run_example.py examples/NAME.yaml"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import LOADCELL, Target  # noqa: E402


def main():
    example = sys.argv[1]
    with Target("-t", "1") as t, tempfile.TemporaryDirectory() as d:
        summary = os.path.join(d, "summary.json")
        p = subprocess.run([LOADCELL, "run", example, "-e", f"TARGET={t.url.rstrip('/')}", "--summary-export", summary],
                           capture_output=True, text=True, timeout=120)
        print(p.stdout)
        if p.returncode != 0:
            print(p.stderr, file=sys.stderr)
            print(f"FAIL: {example} exited {p.returncode}")
            return 1
        with open(summary) as f:
            metrics = json.load(f)["metrics"]
        if metrics.get("iterations", {}).get("count", 0) == 0:
            print(f"FAIL: {example} ran no iteration")
            return 1
        if os.path.basename(example) == "dropped-iterations.yaml" and metrics.get("dropped_iterations", {}).get("count", 0) == 0:
            print("FAIL: dropped-iterations.yaml dropped nothing")
            return 1
    print(f"1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
