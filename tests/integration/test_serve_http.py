"""`loadcell serve`'s HTTP layer against hostile and careless clients (issue #17, items 8–10):
huge chunked bodies, slow clients, many connections from one address, and the body limit
for every content type — each against a real server started here, with real sockets."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import SANITIZED, rss_bound_kib
from test_serve import Server


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def read_answer(sock):
    """(status, body bytes) of one HTTP/1.1 answer read to the end of the connection, or
    (None, b"") when the server closed without one."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    if not data:
        return None, b""
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def send_chunked(port, path, total, token=None, chunk=1 << 20):
    """POSTs `total` bytes as a chunked body (stopping when the server stops reading);
    returns (bytes sent, status or None, body)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    sock.sendall((head + "Connection: close\r\n\r\n").encode())
    piece = f"{chunk:x}\r\n".encode() + b"x" * chunk + b"\r\n"
    sent = 0
    try:
        while sent < total:
            sock.sendall(piece)
            sent += chunk
        sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    status, body = read_answer(sock)
    sock.close()
    return sent, status, body


class HttpLayer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="loadcell-serve-http-")
        cls.server = Server(f"{cls.dir}/service.db", "--max-connections-per-client", "16", "--request-timeout", "2")
        cls.server.token = cls.server.read_token()
        cls.port = int(cls.server.base.rsplit(":", 1)[1])

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def assert_still_answers(self):
        status, body = self.server.call("GET", "/api/v1/status")
        self.assertEqual(status, 200, body)

    def test_a_huge_chunked_body_is_refused_in_bounded_memory(self):
        """An unauthenticated 300 MB chunked POST to a missing path peaked the server at 897 MB."""
        mb = 1 << 20
        # Without a token: answered 401 on its headers, before a byte of the body is read.
        sent, status, body = send_chunked(self.port, "/api/v1/nothing", 300 * mb)
        self.assertEqual((status, json.loads(body)), (401, {"error": "missing Authorization: Bearer <token>"}))
        self.assertLess(sent, 100 * mb)
        # With one, to a real endpoint: cut once it has read twice the limit (1 MiB).
        sent, status, _ = send_chunked(self.port, "/api/v1/tests/validate", 300 * mb, token=self.server.token)
        self.assertIsNone(status)
        self.assertLess(sent, 100 * mb)
        # A little over the limit, sent whole: the 413 that says the limit.
        sent, status, body = send_chunked(self.port, "/api/v1/tests/validate", mb + 65536, token=self.server.token,
                                          chunk=65536)
        self.assertEqual((status, json.loads(body)),
                         (413, {"error": "request body larger than 1048576 bytes (--max-body)"}))
        # Within it, chunked: read and answered like any other body.
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        payload = json.dumps({"yaml": "name: x\ntarget: http://127.0.0.1:1\nscenarios: {}\n"}).encode()
        sock.sendall((f"POST /api/v1/tests/validate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                      f"Authorization: Bearer {self.server.token}\r\nConnection: close\r\n\r\n").encode() +
                     f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n\r\n")
        status, body = read_answer(sock)
        sock.close()
        self.assertEqual(status, 200, body)
        self.assertIn("valid", json.loads(body))
        self.assertLess(peak_rss_kib(self.server.proc.pid), rss_bound_kib(100))
        self.assert_still_answers()

    def test_slow_clients_do_not_block_the_api(self):
        """Eight connections sending their headers slowly left 0 of 4 requests answered."""
        slow = []
        stop = threading.Event()
        for _ in range(8):
            s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)

        def trickle():
            while not stop.wait(0.2):
                for s in slow:
                    try:
                        s.sendall(b"X")
                    except OSError:
                        pass
        t = threading.Thread(target=trickle)
        t.start()
        try:
            answered = 0
            for _ in range(4):
                started = time.monotonic()
                status, _ = self.server.call("GET", "/api/v1/status")
                answered += status == 200
                self.assertLess(time.monotonic() - started, 3.0 if SANITIZED else 1.0)
            self.assertEqual(answered, 4)
        finally:
            stop.set()
            t.join()
        # Their headers never end: each is closed at the request timeout (2 s here).
        started = time.monotonic()
        for s in slow:
            s.settimeout(10)
            status, _ = read_answer(s)
            self.assertIsNone(status)
            s.close()
        self.assertLess(time.monotonic() - started, 6)

    def test_one_address_holds_a_bounded_number_of_connections(self):
        """No cap per client address: one client could take every connection."""
        held, refused = [], 0
        for _ in range(20):
            s = socket.socket()
            s.bind(("127.0.0.2", 0))  # another client address on loopback
            s.settimeout(10)
            s.connect(("127.0.0.1", self.port))
            s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n")
            held.append(s)
        # Over the cap (16): closed at once. The rest finish their request and are answered.
        answers = []
        for s in held:
            try:
                s.sendall(f"Authorization: Bearer {self.server.token}\r\nConnection: close\r\n\r\n".encode())
            except (BrokenPipeError, ConnectionResetError):
                pass
            answers.append(read_answer(s)[0])
            s.close()
        refused = answers.count(None)
        self.assertEqual((refused, answers.count(200)), (4, 16), answers)
        # Meanwhile, and after, the loopback's own address is served.
        self.assert_still_answers()

    def test_a_form_encoded_body_has_the_same_limit(self):
        """`curl -d` (form-encoded) with a 9 KB test answered 413 "larger than 1048576 bytes"."""
        yaml = "name: big\ntarget: http://127.0.0.1:1\nscenarios:\n  s:\n    executor: shared-iterations\n" \
               "    iterations: 1\n    flow:\n      - request: { url: / }\n" + "# padding\n" * 900
        body = json.dumps({"name": "nine-kb", "yaml": yaml})
        self.assertGreater(len(body), 9000)
        out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", "-H", f"Authorization: Bearer {self.server.token}",
                              "-d", body, f"{self.server.base}/api/v1/tests"], capture_output=True, text=True, timeout=30)
        text, _, code = out.stdout.rpartition("\n")
        self.assertEqual(code, "201", text)
        self.assertEqual(json.loads(text)["name"], "nine-kb")


if __name__ == "__main__":
    unittest.main()
