"""A server that misbehaves on purpose, one way per path, for the hostile-target tests.

It prints one line when ready: `http PORT tls PORT tls-garbage PORT refused PORT`
- http: plain HTTP/1.1; the path picks the misbehaviour (see PATHS below);
- tls: the same paths behind TLS with a self-signed certificate (a bad certificate for a
  client that verifies);
- tls-garbage: accepts TCP and answers the ClientHello with bytes that are not TLS;
- refused: a port nobody listens on.
GET /stats answers what it saw so far as JSON: requests per path, connections accepted.

Each connection gets a thread: the misbehaviours block (drip, never answer), and the tests
open a handful of connections, not thousands."""
import json
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

stats = {"requests": {}, "connections": 0}
lock = threading.Lock()


def count(path):
    with lock:
        stats["requests"][path] = stats["requests"].get(path, 0) + 1


def read_head(conn, buf):
    """Reads one request head; returns (path, rest of the buffer) or (None, b"") at EOF."""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
        if len(buf) > 1 << 20:
            return None, b""
    head, rest = buf.split(b"\r\n\r\n", 1)
    line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
    length = 0
    for h in head.split(b"\r\n")[1:]:
        name, _, value = h.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return (line[1] if len(line) > 1 else "/"), rest[length:]


def wait_for_close(conn):
    """Holds the connection open, reading and discarding, until the client goes away."""
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


def reset(conn):
    """Closes with RST instead of FIN: SO_LINGER with a zero timeout."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
BIG = 200 * 1024 * 1024


def serve(conn, tls):
    """Returns True to keep the connection for another request."""
    buf = b""
    while True:
        path, buf = read_head(conn, buf)
        if path is None:
            return
        path = path.split("?", 1)[0]
        count(path)
        if path == "/ok":
            conn.sendall(OK)
            continue
        if path == "/stats":  # what the server saw so far (this request not counted)
            with lock:
                stats["requests"]["/stats"] -= 1
                body = json.dumps(stats).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            continue
        if path == "/never":  # accepts, reads the request, never answers
            wait_for_close(conn)
            return
        if path == "/reset-headers":  # RST in the middle of the header section
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/pl")
            time.sleep(0.01)
            return reset(conn) if not tls else conn.close()
        if path == "/reset-body":  # RST in the middle of the body
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)
            time.sleep(0.01)
            return reset(conn) if not tls else conn.close()
        if path == "/garbage":  # not HTTP at all
            conn.sendall(b"\x00\x01\xffSSH-2.0-OpenSSH_9.2 this is not a status line\r\n\r\n")
            wait_for_close(conn)
            return
        if path == "/huge-headers":  # a header section that never ends (> 64 KiB)
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                for i in range(2000):
                    conn.sendall(b"X-Pad-%d: %s\r\n" % (i, b"a" * 60))
            except OSError:
                return
            wait_for_close(conn)
            return
        if path == "/drip":  # a valid response, one byte per 100 ms
            try:
                for b in OK:
                    conn.sendall(bytes([b]))
                    time.sleep(0.1)
            except OSError:
                return
            continue
        if path == "/big":  # 200 MB body
            chunk = b"b" * (1 << 20)
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BIG)
                for _ in range(BIG // len(chunk)):
                    conn.sendall(chunk)
            except OSError:
                return
            continue
        if path == "/bad-chunk":  # invalid chunk size
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
            wait_for_close(conn)
            return
        if path == "/short-body":  # fewer body bytes than Content-Length, then FIN
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"s" * 500)
            conn.shutdown(socket.SHUT_WR)
            wait_for_close(conn)
            return
        if path == "/close-always":  # closes after each response, without Connection: close
            conn.sendall(OK)
            conn.shutdown(socket.SHUT_WR)
            wait_for_close(conn)
            return
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")


def handle(conn, tls_context):
    with lock:
        stats["connections"] += 1
    try:
        if tls_context is not None:
            conn.settimeout(10)
            try:
                conn = tls_context.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                return  # the client refused our certificate: that is the point
            conn.settimeout(None)
        serve(conn, tls_context is not None)
    except OSError:
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def handle_tls_garbage(conn):
    try:
        conn.recv(4096)  # the ClientHello
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        wait_for_close(conn)
    except OSError:
        pass
    finally:
        conn.close()


def listen():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(1024)
    return s


def accept_loop(sock, handler):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def main():
    d = tempfile.mkdtemp(prefix="loadcell-hostile-")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-keyout", f"{d}/key.pem", "-out", f"{d}/cert.pem"],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(f"{d}/cert.pem", f"{d}/key.pem")

    http, tls, garbage = listen(), listen(), listen()
    refused = socket.socket()  # bound, never listening: connections are refused
    refused.bind(("127.0.0.1", 0))
    for sock, handler in ((http, lambda c: handle(c, None)), (tls, lambda c: handle(c, context)),
                          (garbage, handle_tls_garbage)):
        threading.Thread(target=accept_loop, args=(sock, handler), daemon=True).start()

    print(f"http {http.getsockname()[1]} tls {tls.getsockname()[1]} tls-garbage {garbage.getsockname()[1]} "
          f"refused {refused.getsockname()[1]}", flush=True)
    threading.Event().wait()  # until SIGTERM (default action: exit)

if __name__ == "__main__":
    main()
