"""loadcell side by side with wrk, in one run, on the same nginx.

nginx is pinned to core 1 and the load generators to core 0 (taskset), as on the 2-core
reference machine. Prints, for each scenario, both tools' numbers and the ratios:

1. CPU time per request: 50 connections, one thread, closed model, 10 s each.
2. Memory per connection: peak RSS at 10,000 connections minus peak RSS at 50, per
   added connection.
3. Open model at 20,000 req/s: loadcell's send-lag p99 (goal < 200 us).
4. The built-in target's throughput against nginx's, both on one core, driven by wrk.
5. 15,000 VUs (request + think 1s), peak RSS per VU.
6. A 3-step journey with a capture and templates: run's requests per CPU-second over quick's.
7. HTTP/2 against h2load; 8. PostgreSQL against pgbench;
9. Steady memory: quick and run for 10 minutes at full speed, RSS at 1 min and at the end.

Usage: python3 bench/run.py build/loadcell [--seconds 10] [--json out.json]
"""
import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import free_port, quick_counters, wait_for_port  # noqa: E402

NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid {dir}/nginx.pid;
error_log {dir}/error.log error;
events {{ worker_connections 12000; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=16384;
        location / {{ return 200 "hello from nginx\\n"; }}
    }}
}}
"""


def run_measured(cmd):
    """Runs cmd under GNU time; returns (stdout, stderr, user+sys CPU seconds, peak RSS KiB).

    GNU time rather than our own wait4(): a child forked from this Python process would
    carry Python's resident size into its ru_maxrss across exec."""
    with tempfile.NamedTemporaryFile("r") as tf:
        p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", tf.name, *cmd], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{cmd} failed ({p.returncode}): {p.stderr.strip()[-500:]}")
        user, sys_, rss = tf.read().split()[-3:]
    return p.stdout, p.stderr, float(user) + float(sys_), int(rss)


JOURNEY = """target: {base}
scenarios:
  journey:
    executor: constant-vus
    vus: 50
    duration: {secs}
    flow:
      - request:
          name: login
          method: POST
          url: /auth/login
          json: {{ user: "user{{{{ vu }}}}", password: "x" }}
          capture: [ {{ json: "$.token", as: token }} ]
      - request: {{ name: items, url: /items, headers: {{ Authorization: "Bearer {{{{ token }}}}" }} }}
      - request: {{ name: item, url: "/items/{{{{ iteration % 10 + 1 }}}}", headers: {{ Authorization: "Bearer {{{{ token }}}}" }} }}
"""


# The same journey where Lua decides: a condition on the last response and a Lua expression
# in a header (every response is then kept for the expressions).
JOURNEY_LUA = """target: {base}
scenarios:
  journey:
    executor: constant-vus
    vus: 50
    duration: {secs}
    flow:
      - request:
          name: login
          method: POST
          url: /auth/login
          json: {{ user: "user{{{{ vu }}}}", password: "x" }}
          capture: [ {{ json: "$.token", as: token }} ]
      - if:
          cond: status == 200
          then:
            - request: {{ name: items, url: /items, headers: {{ Authorization: "Bearer {{{{ token }}}}" }} }}
      - request: {{ name: item, url: "/items/{{{{ iteration % 10 + 1 }}}}", headers: {{ Authorization: "Bearer {{{{ token }}}}", X-Tag: "{{{{ token:sub(1, 8) .. '-' .. vu }}}}" }} }}
"""


NGINX_H2_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log error;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    http2_max_concurrent_streams 128;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} http2;
        location / {{ return 200 "hello from nginx\\n"; }}
    }}
}}
"""


def bench_h2(loadcell, seconds, rounds, results):
    """7. HTTP/2 (cleartext, prior knowledge) at 10 connections x 10 streams, loadcell quick
    --h2 against h2load on the same nginx: CPU time per request. Goal <= 1.0x h2load."""
    d = tempfile.mkdtemp(prefix="loadcell-bench-h2-")
    port = free_port()
    with open(f"{d}/nginx.conf", "w") as f:
        f.write(NGINX_H2_CONF.format(dir=d, port=port))
    nginx = subprocess.Popen(["taskset", "-c", "1", shutil.which("nginx") or "/usr/sbin/nginx", "-p", d, "-c",
                              f"{d}/nginx.conf", "-e", f"{d}/error.log"])
    try:
        wait_for_port(port)
        url = f"http://127.0.0.1:{port}/"
        gen = ["taskset", "-c", "0"]
        h2_cprs, lc_cprs, h2_rates, lc_rates = [], [], [], []
        for _ in range(rounds):
            out, _, h_cpu, _ = run_measured(gen + ["h2load", "-c", "10", "-m", "10", "-t", "1", "-D", str(seconds), url])
            h_reqs = int(re.search(r"requests: \d+ total, \d+ started, (\d+) done", out).group(1))
            jf = f"{d}/lc.json"
            _, _, l_cpu, _ = run_measured(gen + [loadcell, "quick", url, "--h2", "--streams", "10", "-c", "10", "-t", "1",
                                                 "-d", f"{seconds}s", "-q", "--out", jf])
            l_reqs = quick_counters(json.load(open(jf)))["requests"]
            h2_cprs.append(h_cpu / h_reqs * 1e6)
            lc_cprs.append(l_cpu / l_reqs * 1e6)
            h2_rates.append(h_reqs / seconds)
            lc_rates.append(l_reqs / seconds)
            print(f"      round: h2load {h2_cprs[-1]:.3f} us/req at {h2_rates[-1]:.0f}/s, "
                  f"loadcell {lc_cprs[-1]:.3f} us/req at {lc_rates[-1]:.0f}/s")
        h, l = statistics.median(h2_cprs), statistics.median(lc_cprs)
        results["h2"] = {"h2load_us_per_req": h2_cprs, "loadcell_us_per_req": lc_cprs, "h2load_rate": h2_rates,
                         "loadcell_rate": lc_rates, "ratio": l / h,
                         "rate_ratio": statistics.median(lc_rates) / statistics.median(h2_rates)}
        print(f"[h2] 10 connections x 10 streams, {seconds}s x {rounds} (medians): h2load {h:.3f} us CPU/request at "
              f"{statistics.median(h2_rates):.0f}/s, loadcell {l:.3f} at {statistics.median(lc_rates):.0f}/s; "
              f"loadcell/h2load = {l / h:.3f}x (goal <= 1.0)")
    finally:
        nginx.terminate()
        nginx.wait()
        shutil.rmtree(d, ignore_errors=True)


def bench_pg(loadcell, seconds, results):
    """8. PostgreSQL: the same prepared single-row SELECT by primary key, 10 connections,
    pgbench (-M prepared, one thread) against loadcell run (a sql step, closed model);
    queries per second and client CPU per query."""
    from harness import Postgres  # noqa: E402
    with Postgres() as pg:
        pg.sql("create table kv (id int primary key, v text); insert into kv select g, md5(g::text) from generate_series(1, 10000) g")
        d = tempfile.mkdtemp(prefix="loadcell-bench-pg-")
        with open(f"{d}/select.sql", "w") as f:
            f.write("\\set id random(1, 10000)\nselect v from kv where id = :id;\n")
        gen = ["taskset", "-c", "0"]
        out, _, p_cpu, _ = run_measured(gen + ["pgbench", "-n", "-M", "prepared", "-c", "10", "-j", "1", "-T", str(seconds),
                                               "-f", f"{d}/select.sql", pg.url])
        p_tx = int(re.search(r"number of transactions actually processed: (\d+)", out).group(1))
        p_lat = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))
        with open(f"{d}/t.yaml", "w") as f:
            f.write(f"databases: {{ main: {{ url: '{pg.url}', pool: 10 }} }}\n"
                    f"scenarios:\n  q:\n    executor: constant-vus\n    vus: 10\n    duration: {seconds}s\n"
                    f"    flow:\n      - sql: {{ db: main, query: 'select v from kv where id = $1', "
                    f"params: ['{{{{ random_int(1, 10000) }}}}'] }}\n")
        _, _, l_cpu, _ = run_measured(gen + [loadcell, "run", f"{d}/t.yaml", "-t", "1", "-q", "--summary-export", f"{d}/s.json"])
        m = json.load(open(f"{d}/s.json"))["metrics"]
        l_q = m["sql_queries"]["count"]
        results["pg"] = {"pgbench_tps": p_tx / seconds, "pgbench_latency_ms": p_lat, "pgbench_cpu_us_per_query": p_cpu / p_tx * 1e6,
                         "loadcell_qps": l_q / seconds, "loadcell_avg_ms": m["sql_query_duration"]["avg"],
                         "loadcell_cpu_us_per_query": l_cpu / l_q * 1e6}
        r = results["pg"]
        print(f"[pg] 10 connections, prepared SELECT by key, {seconds}s: pgbench {r['pgbench_tps']:.0f} q/s "
              f"(avg {p_lat:.3f} ms, {r['pgbench_cpu_us_per_query']:.2f} us CPU/query), loadcell "
              f"{r['loadcell_qps']:.0f} q/s (avg {r['loadcell_avg_ms']:.3f} ms, {r['loadcell_cpu_us_per_query']:.2f} us CPU/query); "
              f"rate loadcell/pgbench = {r['loadcell_qps'] / r['pgbench_tps']:.3f}x")


def bench_memory(loadcell, minutes, results, which=("quick", "run")):
    """9. Steady memory: quick and run at full speed for `minutes` against the built-in
    target (target on core 1, loadcell on core 0); RSS after 1 minute and at the end (goal:
    within 5%)."""
    port = free_port()
    target = subprocess.Popen(["taskset", "-c", "1", loadcell, "target", "--listen", f"127.0.0.1:{port}", "-t", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    d = tempfile.mkdtemp(prefix="loadcell-bench-mem-")
    try:
        wait_for_port(port)
        url = f"http://127.0.0.1:{port}/health"
        secs = int(minutes * 60)
        with open(f"{d}/t.yaml", "w") as f:
            f.write(f"scenarios:\n  s:\n    executor: constant-vus\n    vus: 50\n    duration: {secs}s\n    flow:\n"
                    f"      - request: {{ name: a, url: '{url}' }}\n      - request: {{ name: b, url: '{url}?b' }}\n")
        tools = {
            "quick": [loadcell, "quick", url, "-c", "50", "-t", "1", "-d", f"{secs}s", "-q", "--out", f"{d}/q.json"],
            "run": [loadcell, "run", f"{d}/t.yaml", "-t", "1", "-q", "--out", f"{d}/r.json"],
        }
        results["memory"] = {}
        for name, cmd in tools.items():
            if name not in which:
                continue
            p = subprocess.Popen(["taskset", "-c", "0"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            start = time.monotonic()
            samples = {}
            for at in (60, secs - 5):
                time.sleep(max(0, start + at - time.monotonic()))
                with open(f"/proc/{p.pid}/status") as f:
                    samples[at] = next(int(x.split()[1]) for x in f if x.startswith("VmRSS:"))
            p.wait()
            early, late = samples[60], samples[secs - 5]
            results["memory"][name] = {"rss_kib_1min": early, "rss_kib_end": late, "growth": late / early - 1}
            print(f"[memory] {name}: RSS {early} KiB after 1 min, {late} KiB after {secs - 5} s "
                  f"({100 * (late / early - 1):+.1f}%, goal within 5%)")
    finally:
        target.terminate()
        target.wait()
        shutil.rmtree(d, ignore_errors=True)


def proc_cpu_seconds(pid):
    """user + system CPU of a running process (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk_requests(out):
    m = re.search(r"(\d+) requests in", out)
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("loadcell")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--only", help="comma-separated sections: http1, h2, pg, memory (default: all)")
    ap.add_argument("--memory-minutes", type=float, default=10)
    ap.add_argument("--memory-tools", default="quick,run", help="which of quick,run the memory section runs")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None

    def want(section):
        return only is None or section in only

    loadcell = os.path.abspath(args.loadcell)
    secs = f"{args.seconds}s"
    results = {}

    if want("http1"):
        d = tempfile.mkdtemp(prefix="loadcell-bench-")
        port = free_port()
        with open(f"{d}/nginx.conf", "w") as f:
            f.write(NGINX_CONF.format(dir=d, port=port))
        resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
        nginx = subprocess.Popen(["taskset", "-c", "1", shutil.which("nginx") or "/usr/sbin/nginx", "-p", d, "-c",
                                  f"{d}/nginx.conf", "-e", f"{d}/error.log"])
        try:
            wait_for_port(port)
            url = f"http://127.0.0.1:{port}/"
            gen = ["taskset", "-c", "0"]

            # 1. CPU per request, 50 connections, one thread. Alternating rounds, medians: on a
            #    shared 2-core VM single runs vary by +-10%.
            wrk_cprs, lc_cprs, wrk_rates, lc_rates = [], [], [], []
            for _ in range(args.rounds):
                out, _, wrk_cpu, wrk_rss50 = run_measured(gen + ["wrk", "-t1", "-c50", "-d" + secs, url])
                wrk_reqs = wrk_requests(out)
                jf = f"{d}/lc50.json"
                _, _, lc_cpu, lc_rss50 = run_measured(gen + [loadcell, "quick", url, "-c", "50", "-t", "1", "-d", secs,
                                                             "-q", "--out", jf])
                lc_reqs = quick_counters(json.load(open(jf)))["requests"]
                wrk_cprs.append(wrk_cpu / wrk_reqs * 1e6)
                lc_cprs.append(lc_cpu / lc_reqs * 1e6)
                wrk_rates.append(wrk_reqs / args.seconds)
                lc_rates.append(lc_reqs / args.seconds)
                print(f"      round: wrk {wrk_cprs[-1]:.3f} us/req at {wrk_rates[-1]:.0f}/s, "
                      f"loadcell {lc_cprs[-1]:.3f} us/req at {lc_rates[-1]:.0f}/s")
            wrk_cpr, lc_cpr = statistics.median(wrk_cprs), statistics.median(lc_cprs)
            wrk_rate, lc_rate = statistics.median(wrk_rates), statistics.median(lc_rates)
            results["cpu"] = {"rounds": args.rounds, "wrk_us_per_req": wrk_cprs, "loadcell_us_per_req": lc_cprs,
                              "wrk_rate": wrk_rates, "loadcell_rate": lc_rates,
                              "ratio": lc_cpr / wrk_cpr, "rate_ratio": lc_rate / wrk_rate}
            print(f"[cpu] 50 connections, 1 thread, {secs} x {args.rounds} rounds (medians):")
            print(f"      wrk      {wrk_rate:>9.0f} req/s  {wrk_cpr:.3f} us CPU/request")
            print(f"      loadcell {lc_rate:>9.0f} req/s  {lc_cpr:.3f} us CPU/request")
            print(f"      CPU per request loadcell/wrk = {lc_cpr / wrk_cpr:.3f}x (goal <= 0.85, limit 1.0); "
                  f"rate loadcell/wrk = {lc_rate / wrk_rate:.3f}x")

            # 2. Open model at 20,000 req/s (before the 10,000-connection runs, whose teardown
            #    keeps nginx busy for a while).
            jf = f"{d}/open.json"
            run_measured(gen + [loadcell, "quick", url, "-R", "20000", "-c", "200", "-t", "1", "-d", secs, "-q",
                                "--out", jf])
            o = json.load(open(jf))
            oc = quick_counters(o)
            lag = o["metrics"]["iteration_start_lag"]
            results["open"] = {"requests": oc["requests"], "send_lag_p99_ms": lag["p(99)"],
                               "send_lag_p999_ms": lag["p(99.9)"], "duration_p99_ms": o["metrics"]["http_req_duration"]["p(99)"],
                               "late": oc["late"]}
            print(f"[open] 20,000 req/s for {secs}: {oc['requests']} requests, send lag p99 "
                  f"{lag['p(99)'] * 1000:.0f} us (goal < 200), p99.9 {lag['p(99.9)'] * 1000:.0f} us, "
                  f"late {oc['late']}")

            # 3. Memory per connection: 10,000 vs 50 connections.
            _, _, _, wrk_rss10k = run_measured(gen + ["wrk", "-t1", "-c10000", "-d5s", "--timeout", "10s", url])
            jf = f"{d}/lc10k.json"
            _, _, _, lc_rss10k = run_measured(gen + [loadcell, "quick", url, "-c", "10000", "-t", "1", "-d", "5s", "-q",
                                                     "--out", jf])
            lc10k = quick_counters(json.load(open(jf)))
            wrk_per = (wrk_rss10k - wrk_rss50) / 9950
            lc_per = (lc_rss10k - lc_rss50) / 9950
            results["memory"] = {"wrk_rss_50_kib": wrk_rss50, "wrk_rss_10k_kib": wrk_rss10k, "wrk_kib_per_conn": wrk_per,
                                 "loadcell_rss_50_kib": lc_rss50, "loadcell_rss_10k_kib": lc_rss10k,
                                 "loadcell_kib_per_conn": lc_per, "loadcell_10k_connects": lc10k["connects"],
                                 "loadcell_10k_errors": lc10k["errors"]}
            print("[mem] peak RSS, 10,000 connections minus 50, per added connection:")
            print(f"      wrk      {wrk_rss50} KiB -> {wrk_rss10k} KiB: {wrk_per:.2f} KiB/connection")
            print(f"      loadcell {lc_rss50} KiB -> {lc_rss10k} KiB: {lc_per:.2f} KiB/connection "
                  f"(goal <= 4, limit 8; {lc10k['connects']} connects, errors {lc10k['errors']})")


            # 4. The built-in target against nginx, each pinned to core 1 and driven by wrk on
            #    core 0. wrk itself saturates near the servers' rate, so the comparison is the
            #    servers' own CPU time per request (= 1 / their one-core capacity).
            target = subprocess.Popen(["taskset", "-c", "1", loadcell, "target", "--listen", "127.0.0.1:0", "-t", "1",
                                       "--body-size", "17"], stdout=subprocess.PIPE, text=True)
            try:
                tport = int(re.search(r":(\d+)$", target.stdout.readline().strip()).group(1))
                nginx_cpr, target_cpr = [], []
                for _ in range(args.rounds):
                    for pid, port_, out_list in ((nginx.pid, port, nginx_cpr), (target.pid, tport, target_cpr)):
                        before = proc_cpu_seconds(pid)
                        out, _, _, _ = run_measured(gen + ["wrk", "-t1", "-c50", "-d" + secs, f"http://127.0.0.1:{port_}/"])
                        out_list.append((proc_cpu_seconds(pid) - before) / wrk_requests(out) * 1e6)
            finally:
                target.terminate()
                target.wait()
            n_cpr, t_cpr = statistics.median(nginx_cpr), statistics.median(target_cpr)
            results["target"] = {"nginx_us_per_req": nginx_cpr, "target_us_per_req": target_cpr,
                                 "capacity_ratio": n_cpr / t_cpr}
            print(f"[target] server CPU per request under wrk -c50: nginx {n_cpr:.3f} us, loadcell target {t_cpr:.3f} us; "
                  f"one-core capacity target/nginx = {n_cpr / t_cpr:.3f}x (goal >= 1)")

            # 5. VUs: 15,000 VUs each with its own connection, request + think 1s, against the
            #    built-in target; peak RSS per VU above a 100-VU run. Goal <= 8 KiB, limit 16.
            # 6. A 3-step journey (login with a JSON template, token capture, two requests with
            #    the token) against the target: loadcell run's requests per CPU-second over
            #    loadcell quick's on the same target. Goal >= 0.6.
            target = subprocess.Popen(["taskset", "-c", "1", loadcell, "target", "--listen", "127.0.0.1:0", "-t", "1"],
                                      stdout=subprocess.PIPE, text=True)
            try:
                tport = int(re.search(r":(\d+)$", target.stdout.readline().strip()).group(1))
                base = f"http://127.0.0.1:{tport}"
                rss = {}
                for vus in (100, 15000):
                    yf = f"{d}/vus{vus}.yaml"
                    with open(yf, "w") as f:
                        f.write(f"target: {base}\nscenarios:\n  many:\n    executor: constant-vus\n    vus: {vus}\n"
                                f"    duration: {secs}\n    flow:\n      - request: {{ url: / }}\n      - think: 1s\n")
                    _, _, _, rss[vus] = run_measured(gen + [loadcell, "run", yf, "-t", "1"])
                per_vu = (rss[15000] - rss[100]) / 14900
                results["vus"] = {"rss_100_kib": rss[100], "rss_15000_kib": rss[15000], "kib_per_vu": per_vu}
                print(f"[vus] 15,000 VUs with a connection each: {rss[100]} KiB -> {rss[15000]} KiB, "
                      f"{per_vu:.2f} KiB per VU (goal <= 8, limit 16)")
                jf = f"{d}/journey.yaml"
                with open(jf, "w") as f:
                    f.write(JOURNEY.format(base=base, secs=secs))
                sf = f"{d}/journey.json"
                _, _, j_cpu, _ = run_measured(gen + [loadcell, "run", jf, "-t", "1", "--summary-export", sf])
                j_reqs = json.load(open(sf))["metrics"]["http_reqs"]["count"]
                qf = f"{d}/quick.json"
                _, _, q_cpu, _ = run_measured(gen + [loadcell, "quick", base + "/", "-c", "50", "-t", "1", "-d", secs, "-q",
                                                     "--out", qf])
                q_reqs = quick_counters(json.load(open(qf)))["requests"]
                ratio = (j_reqs / j_cpu) / (q_reqs / q_cpu)
                results["journey"] = {"run_requests": j_reqs, "run_cpu_s": j_cpu, "quick_requests": q_reqs,
                                      "quick_cpu_s": q_cpu, "ratio": ratio}
                print(f"[journey] run: {j_reqs / j_cpu:.0f} req per CPU-second, quick: {q_reqs / q_cpu:.0f}; "
                      f"run/quick = {ratio:.3f}x (goal >= 0.6)")
                # 6b. The journey with Lua conditions and expressions, over the plain one.
                lf = f"{d}/journey_lua.yaml"
                with open(lf, "w") as f:
                    f.write(JOURNEY_LUA.format(base=base, secs=secs))
                lsf = f"{d}/journey_lua.json"
                _, _, l_cpu, _ = run_measured(gen + [loadcell, "run", lf, "-t", "1", "--summary-export", lsf])
                l_reqs = json.load(open(lsf))["metrics"]["http_reqs"]["count"]
                l_ratio = (l_reqs / l_cpu) / (j_reqs / j_cpu)
                results["journey_lua"] = {"run_requests": l_reqs, "run_cpu_s": l_cpu, "ratio_to_yaml": l_ratio,
                                          "ratio_to_quick": (l_reqs / l_cpu) / (q_reqs / q_cpu)}
                print(f"[journey] with Lua: {l_reqs / l_cpu:.0f} req per CPU-second; over the YAML journey "
                      f"{l_ratio:.3f}x (goal >= 0.8), over quick {(l_reqs / l_cpu) / (q_reqs / q_cpu):.3f}x (goal >= 0.5)")
            finally:
                target.terminate()
                target.wait()
        finally:
            nginx.terminate()
            nginx.wait()
            shutil.rmtree(d, ignore_errors=True)
    if want("h2"):
        bench_h2(loadcell, args.seconds, args.rounds, results)
    if want("pg"):
        bench_pg(loadcell, args.seconds, results)
    if want("memory"):
        bench_memory(loadcell, args.memory_minutes, results, args.memory_tools.split(","))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
