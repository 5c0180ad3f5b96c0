"""Runs one bundled example against a fresh `loadcell target` and checks it passes its
own thresholds (exit 0) with real traffic, that every request it sends checks what it
relies on, and that no check and no request failed (an example that passes only because
nothing looks is no example). Usage: run_example.py examples/NAME.yaml"""
import json
import os
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(__file__))
from harness import LOADCELL, Target  # noqa: E402


def unchecked_requests(steps, path="flow"):
    """Request steps without a `check`, anywhere in a flow (picks, loops, groups)."""
    out = []
    for i, step in enumerate(steps or []):
        here = f"{path}[{i}]"
        if "request" in step and not step["request"].get("check"):
            out.append(f"{here}.request ({step['request'].get('name', step['request'].get('url'))})")
        for key in ("pick",):
            if key in step:
                out += unchecked_requests(step[key], f"{here}.{key}")
        for key in ("loop", "group", "while"):
            if key in step:
                out += unchecked_requests(step[key].get("steps"), f"{here}.{key}.steps")
        if "if" in step:
            for branch in ("then", "else"):
                out += unchecked_requests(step["if"].get(branch), f"{here}.if.{branch}")
    return out


def main():
    example = sys.argv[1]
    with open(example) as f:
        doc = yaml.safe_load(f)
    missing = [f"scenarios.{name}.{r}" for name, s in doc["scenarios"].items()
               for r in unchecked_requests(s.get("vu_init"), "vu_init") + unchecked_requests(s.get("flow"))]
    if missing:
        print(f"FAIL: {example}: requests without a check: {', '.join(missing)}")
        return 1
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
        if metrics.get("checks", {}).get("fails", 0) != 0:
            print(f"FAIL: {example}: {metrics['checks']['fails']} checks failed")
            return 1
        if metrics.get("http_req_failed", {}).get("passes", 0) != 0:
            print(f"FAIL: {example}: {metrics['http_req_failed']['passes']} requests failed")
            return 1
        if os.path.basename(example) == "dropped-iterations.yaml" and metrics.get("dropped_iterations", {}).get("count", 0) == 0:
            print("FAIL: dropped-iterations.yaml dropped nothing")
            return 1
    print(f"1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
