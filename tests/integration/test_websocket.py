"""`ws` steps against the built-in target's WebSocket endpoints and against a third-party
server (Debian's python3-websockets): exact message counts on both sides, 1,000
concurrent sessions, wss://, and every way a session can fail, counted with the server's
words and no crash."""
import json
import os
import signal
import subprocess
import tempfile
import textwrap
import unittest

from harness import LOADCELL, SANITIZED, Target, free_port, run_yaml

PYTHON = "/usr/bin/python3"  # Debian's, which has python3-websockets
HERE = os.path.dirname(os.path.abspath(__file__))


def run_test(yaml_text, *args, timeout=120):
    return run_yaml(yaml_text, *args, timeout=timeout, prefix="loadcell-ws-")


class PythonServer:
    def __init__(self, *args):
        self.proc = subprocess.Popen([PYTHON, os.path.join(HERE, "ws_echo_server.py"), *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.proc.kill()
            raise RuntimeError(f"websockets server did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(line)

    def stop(self):
        """Stops the server and returns what it counted."""
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=30)
        return json.loads(out.strip().splitlines()[-1])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def count(summary, metric):
    return summary["metrics"][metric]["count"] if metric in summary["metrics"] else 0


class BuiltInTarget(unittest.TestCase):
    def test_echo_exact_counts(self):
        with Target() as t:
            p, s = run_test(f"""
                target: {t.url}
                scenarios:
                  chat:
                    executor: per-vu-iterations
                    vus: 20
                    iterations: 5
                    flow:
                      - ws:
                          url: /ws/echo
                          subprotocols: [chat.v1]
                          steps:
                            - loop:
                                count: 10
                                steps:
                                  - send: "hello {{{{ vu }}}}-{{{{ iteration }}}}"
                                  - receive: {{ match: "hello {{{{ vu }}}}-", timeout: 2s }}
                            - send: {{ binary: AAECAwQ= }}
                            - receive: {{}}
                            - send: {{ text: "fragmented into frames of 4 bytes", fragment: 4 }}
                            - receive: "fragmented into frames of 4 bytes"
                            - close: {{ code: 1000, reason: done }}
                thresholds:
                  ws_session_failed: ["rate==0"]
                  "ws_sessions{{status:101}}": ["count==100"]
            """)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(count(s, "ws_sessions"), 100)
            self.assertEqual(count(s, "ws_msgs_sent"), 100 * 12)
            self.assertEqual(count(s, "ws_msgs_received"), 100 * 12)
            rtt = s["metrics"]["ws_msg_rtt"]
            self.assertGreater(rtt["max"], 0)
            self.assertLess(rtt["p(50)"], 200 if SANITIZED else 50)
            self.assertEqual(s["metrics"]["ws_session_failed"]["passes"], 0)
            self.assertEqual(count(s, "iterations"), 100)

    def test_broadcast_reaches_the_sender_and_the_others(self):
        with Target() as t:
            # Ten VUs join the room and wait for all ten greetings (their own included):
            # each session sees every member's message exactly once.
            p, s = run_test(f"""
                target: {t.url}
                scenarios:
                  room:
                    executor: per-vu-iterations
                    vus: 10
                    iterations: 1
                    flow:
                      - ws:
                          url: /ws/broadcast
                          steps:
                            - think: 300ms
                            - send: "hi from {{{{ vu }}}}"
                            - loop:
                                count: 10
                                steps:
                                  - receive: {{ match: "hi from", timeout: 3s }}
            """)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(count(s, "ws_msgs_sent"), 10)
            self.assertEqual(count(s, "ws_msgs_received"), 100)
            self.assertEqual(s["metrics"]["ws_session_failed"]["passes"], 0)


class ThirdPartyServer(unittest.TestCase):
    def test_1000_concurrent_sessions_5000_messages_per_second_exact(self):
        with PythonServer() as server:
            # 1,000 VUs each hold a session sending a message every 200 ms: ~5,000 msg/s.
            p, s = run_test(f"""
                scenarios:
                  feeds:
                    executor: constant-vus
                    vus: 1000
                    duration: 4s
                    flow:
                      - ws:
                          url: ws://127.0.0.1:{server.port}/feed
                          timeout: 10s
                          steps:
                            - loop:
                                count: 10
                                steps:
                                  - send: "tick {{{{ vu }}}}"
                                  - receive: "tick {{{{ vu }}}}"
                                  - think: 200ms
            """, timeout=180)
            stats = server.stop()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        sent, received = count(s, "ws_msgs_sent"), count(s, "ws_msgs_received")
        self.assertEqual(sent, stats["messages"])
        self.assertEqual(received, sent)
        self.assertEqual(count(s, "ws_sessions"), stats["sessions"])
        self.assertEqual(s["metrics"]["ws_session_failed"]["passes"], 0)
        self.assertGreaterEqual(stats["peak_open"], 1000)
        # Each session sends 10 messages 200 ms apart and sessions are renewed for 4 s: about
        # 5,000 messages per second on an idle machine (~20,000 sent). Every one of the 1,000
        # VUs finished at least one whole session, however loaded the machine is.
        self.assertGreaterEqual(sent, 10000)
        self.assertGreater(s["metrics"]["ws_msgs_sent"]["rate"], 500 if SANITIZED else 1500)

    def test_wss_with_subprotocol(self):
        d = tempfile.mkdtemp(prefix="loadcell-wss-")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost", "-keyout", f"{d}/key.pem", "-out", f"{d}/cert.pem"],
                       check=True, capture_output=True)
        with PythonServer("--tls", f"{d}/cert.pem", f"{d}/key.pem") as server:
            test = f"""
                scenarios:
                  secure:
                    executor: per-vu-iterations
                    vus: 5
                    iterations: 4
                    flow:
                      - ws:
                          url: wss://localhost:{server.port}/
                          subprotocols: [chat.v2]
                          steps:
                            - send: "over TLS"
                            - receive: "over TLS"
                            - send: {{ text: "and in fragments", fragment: 3 }}
                            - receive: "and in fragments"
            """
            untrusted, us = run_test(test)
            p, s = run_test(test, "--insecure")
            stats = server.stop()
        # Without --insecure the self-signed certificate is refused, and said so.
        self.assertEqual(us["metrics"]["ws_session_failed"]["passes"], 20)
        self.assertIn("TLS", untrusted.stdout + untrusted.stderr)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(count(s, "ws_msgs_received"), 40)
        self.assertEqual(stats["messages"], 40)
        self.assertEqual(stats["subprotocols"], {"chat.v2": 20})


class Failures(unittest.TestCase):
    def run_failing(self, url, steps="[ { send: x }, { receive: { timeout: 300ms } } ]", target=""):
        p, s = run_test(f"""
            {target}
            scenarios:
              bad:
                executor: per-vu-iterations
                vus: 2
                iterations: 3
                flow:
                  - ws: {{ url: "{url}", timeout: 2s, steps: {steps} }}
                  - think: 10ms
        """)
        self.assertIn(p.returncode, (0, 99), p.stdout + p.stderr)
        self.assertEqual(count(s, "iterations"), 6)  # the flow goes on after a failed session
        self.assertEqual(s["metrics"]["ws_session_failed"]["passes"], 6)
        self.assertEqual(count(s, "ws_errors"), 6)
        return p.stdout + p.stderr, s

    def test_server_down(self):
        out, s = self.run_failing(f"ws://127.0.0.1:{free_port()}/")
        self.assertIn("connection refused", out)
        self.assertEqual(count(s, "ws_sessions"), 6)

    def test_handshake_refused_with_the_status(self):
        with Target() as t:
            out, _ = self.run_failing(f"ws://127.0.0.1:{t.port}/status/403")
            self.assertIn("handshake refused: 403 Forbidden", out)
            out, _ = self.run_failing(f"ws://127.0.0.1:{t.port}/")  # a plain HTTP 200
            self.assertIn("handshake refused: 200 OK", out)

    def test_invalid_frames(self):
        with Target() as t:
            out, _ = self.run_failing(f"ws://127.0.0.1:{t.port}/ws/bad-frame")
            self.assertIn("invalid frame from the server: reserved bits set", out)

    def test_receive_timeout(self):
        with Target() as t:
            out, _ = self.run_failing(f"ws://127.0.0.1:{t.port}/ws/echo",
                                      steps="[ { send: ping }, { receive: { match: never, timeout: 200ms } } ]")
            self.assertIn('no message matching "never"', out)

    def test_invalid_steps_are_caught_at_validation(self):
        d = tempfile.mkdtemp(prefix="loadcell-ws-")
        path = os.path.join(d, "bad.yaml")
        with open(path, "w") as f:
            f.write(textwrap.dedent("""\
                scenarios:
                  s:
                    executor: constant-vus
                    vus: 1
                    duration: 1s
                    flow:
                      - ws:
                          url: ws://127.0.0.1:1/
                          steps:
                            - sned: hello
            """))
        p = subprocess.run([LOADCELL, "validate", path], capture_output=True, text=True)
        self.assertEqual(p.returncode, 104)
        self.assertIn(f"{path}:10:15: scenarios.s.flow[0].ws.steps[0].sned: unknown key `sned`", p.stderr)
        self.assertIn("did you mean `send`?", p.stderr)
        with open(path, "w") as f:
            f.write("scenarios:\n  s:\n    executor: constant-vus\n    vus: 1\n    duration: 1s\n"
                    "    flow:\n      - ws: { url: 'http://127.0.0.1:1/', steps: [] }\n")
        p = subprocess.run([LOADCELL, "validate", path], capture_output=True, text=True)
        self.assertEqual(p.returncode, 104)
        self.assertIn(f"{path}:7:20: scenarios.s.flow[0].ws.url: a WebSocket URL starts with ws://", p.stderr)


if __name__ == "__main__":
    unittest.main()
