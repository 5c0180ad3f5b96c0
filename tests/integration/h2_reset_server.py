"""An HTTP/2 server (cleartext, prior knowledge; Debian's python3-h2) that answers every
stream and, after each `--every` answers on a connection, drops the connection with an RST
and no GOAWAY while the client's other streams are still open: a server restarting under
load, or one whose RST made the kernel discard its GOAWAY.

Prints its port when ready; on SIGTERM prints one JSON line: streams answered, streams
received, connections accepted. Only answered streams count as served."""
import argparse
import json
import signal
import socket
import struct
import sys
import threading

import h2.config
import h2.connection
import h2.events

counts = {"answered": 0, "received": 0, "connections": 0}
lock = threading.Lock()


def serve(conn, every):
    h2c = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
    h2c.initiate_connection()
    conn.sendall(h2c.data_to_send())
    answered = 0
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            for event in h2c.receive_data(data):
                if not isinstance(event, h2.events.RequestReceived):
                    continue
                with lock:
                    counts["received"] += 1
                if answered == every:
                    # The answers so far go out; streams received after them stay unanswered
                    # and the link is reset (data sent before an RST stays readable).
                    conn.sendall(h2c.data_to_send())
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                h2c.send_headers(event.stream_id, [(":status", "200"), ("content-length", "2")])
                h2c.send_data(event.stream_id, b"ok", end_stream=True)
                answered += 1
                with lock:
                    counts["answered"] += 1
            conn.sendall(h2c.data_to_send())
    except OSError:
        return
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=int, default=50)
    args = parser.parse_args()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)

    def stop(*_):
        with lock:
            print(json.dumps(counts), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    print(listener.getsockname()[1], flush=True)
    while True:
        conn, _ = listener.accept()
        with lock:
            counts["connections"] += 1
        threading.Thread(target=serve, args=(conn, args.every), daemon=True).start()


if __name__ == "__main__":
    main()
