"""Shared helpers for the end-to-end tests: real servers on 127.0.0.1, started and stopped
by the tests themselves, and the loadcell binary run as a user would run it."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

LOADCELL = os.environ.get("LOADCELL", os.path.join(os.path.dirname(__file__), "../../build/loadcell"))
ROOT = os.environ.get("LOADCELL_ROOT", os.path.join(os.path.dirname(__file__), "../.."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=10.0):
    """Blocks until something accepts on the port: readiness, not a sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listening on port {port} after {timeout}s")


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def promql(port, query):
    """An instant PromQL query against the Prometheus on 127.0.0.1:port (its JSON answer)."""
    return json.loads(http_get(f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})))


class Prometheus:
    """The Debian package's Prometheus on a free port, scraping `jobs` ({name: "host:port"})
    every second, its data in `dir`."""

    def __init__(self, dir, jobs):
        self.port = free_port()
        scrape = "".join(f"  - job_name: {name}\n    static_configs: [ {{ targets: [\"{target}\"] }} ]\n"
                         for name, target in jobs.items())
        with open(f"{dir}/prometheus.yml", "w") as f:
            f.write("global: { scrape_interval: 1s }\nscrape_configs:\n" + scrape)
        with open(f"{dir}/prometheus.log", "w") as log:
            self.proc = subprocess.Popen(["prometheus", f"--config.file={dir}/prometheus.yml",
                                          f"--storage.tsdb.path={dir}/data", f"--web.listen-address=127.0.0.1:{self.port}"],
                                         stdout=subprocess.DEVNULL, stderr=log)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def wait_until(pred, timeout, what):
    """pred()'s first truthy value within `timeout` seconds (connection errors count as not yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            v = pred()
            if v:
                return v
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Target:
    """`loadcell target` on a free port; the port comes from its first line of output."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([LOADCELL, "target", "--listen", "127.0.0.1:0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"target did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}/"

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# What every nginx the tests start has: its files in {dir}, in the foreground, one worker.
NGINX_HEAD = """
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
"""

NGINX_CONF = NGINX_HEAD + """\
    keepalive_requests 100;
    server {{
        listen 127.0.0.1:{port};
        listen 127.0.0.1:{status_port};
        {tls}
        location = /nginx_status {{ stub_status; }}
        location / {{ return 200 "hello from nginx\\n"; }}
    }}
}}
"""


class Nginx:
    """A real nginx with stub_status, in a temporary directory, on a free port."""

    def __init__(self, tls=False, h2=False):
        self.dir = tempfile.mkdtemp(prefix="loadcell-nginx-")
        self.port = free_port()
        self.status_port = free_port()  # plain HTTP, for stub_status even when the test port is TLS
        tls_conf = ""
        if tls:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                            "-keyout", f"{self.dir}/key.pem", "-out", f"{self.dir}/cert.pem"],
                           check=True, capture_output=True)
            tls_conf = f"ssl_certificate {self.dir}/cert.pem; ssl_certificate_key {self.dir}/key.pem;"
        with open(f"{self.dir}/nginx.conf", "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, port=f"{self.port}{' ssl' if tls else ''}{' http2' if h2 else ''}",
                                     status_port=self.status_port, tls=tls_conf))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = subprocess.Popen([nginx, "-p", self.dir, "-c", f"{self.dir}/nginx.conf", "-e", f"{self.dir}/error.log"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for_port(self.port)
        wait_for_port(self.status_port)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://{'localhost' if tls else '127.0.0.1'}:{self.port}/"

    def requests_served(self):
        """nginx's own request counter (stub_status counts the status request too)."""
        body = urllib.request.urlopen(f"http://127.0.0.1:{self.status_port}/nginx_status", timeout=5).read().decode()
        # Active connections: 1 \n server accepts handled requests \n 1 1 1 \n ...
        return int(body.splitlines()[2].split()[2])

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Run:
    """One `loadcell quick` run with its outputs parsed."""

    def __init__(self, rc, stdout, stderr, results, summary, elapsed, outdir):
        self.rc, self.stdout, self.stderr = rc, stdout, stderr
        self.results, self.summary, self.elapsed, self.dir = results, summary, elapsed, outdir

    @property
    def counters(self):
        """quick's totals in wrk's terms, read from its results file (loadcell.results/v1)."""
        return quick_counters(self.results)

    def metric(self, name):
        return self.summary["metrics"][name]


def quick_counters(results):
    """Requests, responses, status codes, failures, bytes and errors by kind, summed over
    the results' series (metric x tags)."""
    def total(metric, field="count", **where):
        return sum(h.get(field, 0) for h in results["histograms"]
                   if h["metric"] == metric and all(h["tags"].get(k) == v for k, v in where.items()))
    status = {}
    for h in results["histograms"]:
        if h["metric"] == "http_reqs" and h["tags"].get("status", "0") != "0":
            status[h["tags"]["status"]] = status.get(h["tags"]["status"], 0) + h["count"]
    errors = {k: 0 for k in ("connect", "connect_timeout", "timeout", "reset", "protocol", "tls", "local_limit")}
    for h in results["histograms"]:
        if h["metric"] == "http_req_errors":
            errors[h["tags"]["kind"]] = errors.get(h["tags"]["kind"], 0) + h["count"]
    return {"requests": total("http_reqs"), "responses": sum(status.values()), "status": status,
            "failed": total("http_req_failed", "passes"), "bytes_in": total("data_received"),
            "bytes_out": total("data_sent"), "errors": errors, "late": total("delayed_iterations"),
            "connects": total("http_connections_opened")}


def load_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


# A sanitizer build (ASan+UBSan, TSan) runs 2-5x slower: bounds on speed are looser there
# (the plain pass keeps the tight ones).
SANITIZED = os.environ.get("LOADCELL_SANITIZED") in ("1", "ON", "TRUE")

_STARTUP_RSS = []


def startup_rss_kib():
    """Peak RSS of `loadcell --version`: what the binary costs before doing anything. Under
    ASan it is ~200 MiB and grows with the binary (the sanitizer touches every global and
    much of the code at start), so memory bounds there are taken above it."""
    if not _STARTUP_RSS:
        p = subprocess.Popen([LOADCELL, "--version"], stdout=subprocess.DEVNULL)
        _, _, usage = os.wait4(p.pid, 0)
        p.returncode = 0
        _STARTUP_RSS.append(usage.ru_maxrss)
    return _STARTUP_RSS[0]


def rss_bound_kib(mib):
    """`mib` MiB for the program's own memory: as is on a plain build, above the startup RSS
    on a sanitized one (which holds shadow memory and registered globals)."""
    sanitized = os.environ.get("LOADCELL_SANITIZED") in ("1", "ON", "TRUE")
    return mib * 1024 + (startup_rss_kib() if sanitized else 0)


def quick(url, *args, timeout=300, env=None):
    outdir = tempfile.mkdtemp(prefix="loadcell-run-")
    res, summ = f"{outdir}/results.json", f"{outdir}/summary.json"
    cmd = [LOADCELL, "quick", url, "--out", res, "--summary-export", summ, "--hlog", f"{outdir}/run.hlog", *args]
    start = time.monotonic()
    with open(f"{outdir}/stdout", "w+") as out, open(f"{outdir}/stderr", "w+") as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env)
        killer = threading.Timer(timeout, p.kill)
        killer.start()
        # wait4 rather than Popen.wait: it also gives this child's own peak RSS (an upper
        # bound: it includes the pages the forked interpreter started with).
        _, status, usage = os.wait4(p.pid, 0)
        killer.cancel()
        rc = p.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    run = Run(rc, stdout, stderr, load_json(res), load_json(summ), elapsed, outdir)
    run.peak_rss_kib = usage.ru_maxrss
    return run


def run_yaml(yaml_text, *args, timeout=120, prefix="loadcell-test-"):
    """`loadcell run` on YAML text (dedented) with -q and --summary-export; returns
    (completed process, summary dict or None)."""
    import textwrap
    d = tempfile.mkdtemp(prefix=prefix)
    path = os.path.join(d, "test.yaml")
    with open(path, "w") as f:
        f.write(textwrap.dedent(yaml_text))
    summary = os.path.join(d, "summary.json")
    p = subprocess.run([LOADCELL, "run", path, "--summary-export", summary, "-q", *args], capture_output=True,
                       text=True, timeout=timeout)
    return p, load_json(summary)


def run_cli(*args, timeout=60):
    return subprocess.run([LOADCELL, *args], capture_output=True, text=True, timeout=timeout)


PG_BIN = "/usr/lib/postgresql/15/bin"


class Postgres:
    """A throw-away PostgreSQL cluster: initdb in a temporary directory, pg_ctl start on a
    free port (TCP on 127.0.0.1 only), trust authentication for user `loadcell`. initdb
    refuses to run as root, so as root the cluster runs as the `postgres` system user."""

    def __init__(self, max_connections=200, options=""):
        self.dir = tempfile.mkdtemp(prefix="loadcell-pg-")
        os.chmod(self.dir, 0o777)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*self.as_user, f"{PG_BIN}/initdb", "-D", self.data, "-U", "loadcell", "-A", "trust",
                        "--no-sync", "-E", "UTF8"], check=True, capture_output=True)
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.dir} "
                f"-c max_connections={max_connections} -c fsync=off -c synchronous_commit=off {options}")
        subprocess.run([*self.as_user, f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", f"{self.dir}/log", "-o", opts,
                        "-w", "start"], check=True, capture_output=True)
        self.url = f"postgres://loadcell@127.0.0.1:{self.port}/postgres"

    def sql(self, query):
        """Runs a query with psql; returns its unaligned output."""
        p = subprocess.run(["psql", self.url, "-XAtq", "-c", query], capture_output=True, text=True, check=True)
        return p.stdout.strip()

    def stop(self):
        subprocess.run([*self.as_user, f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def check_page(url, shot, *args):
    """A page in headless Chromium (tests/js/check_page.js): (exit code, its JSON verdict:
    charts drawn, table rows, faults rows, console errors)."""
    js = os.path.join(ROOT, "tests", "js")
    p = subprocess.run(["node", os.path.join(js, "check_page.js"), url, shot, *args], capture_output=True, text=True,
                       timeout=120, cwd=js)
    lines = p.stdout.strip().splitlines()
    verdict = json.loads(lines[-1]) if lines else {"ok": False, "errors": [p.stderr]}
    return p.returncode, verdict


class RecordingServer:
    """A real HTTP/1.1 server (Python's http.server, keep-alive) that answers 200 to every
    request and keeps each one as (method, path, headers, body bytes), byte for byte."""

    def __init__(self):
        import http.server
        self.requests = []
        self.times = []  # when each request arrived (time.time())
        lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n) if n else b""
                with lock:
                    outer.requests.append((self.command, self.path, dict(self.headers), body))
                    outer.times.append(time.time())
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
