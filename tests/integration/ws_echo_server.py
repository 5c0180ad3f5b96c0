"""A third-party WebSocket server for the tests: Debian's python3-websockets, echoing every
message. It prints its port when ready and, on SIGTERM, what it counted as JSON:
messages received, sessions, the peak of concurrent sessions. --tls CERT KEY for wss://."""
import asyncio
import json
import signal
import ssl
import sys

import websockets

stats = {"messages": 0, "sessions": 0, "open": 0, "peak_open": 0, "subprotocols": {}}


async def echo(ws, path=None):
    stats["sessions"] += 1
    stats["open"] += 1
    stats["peak_open"] = max(stats["peak_open"], stats["open"])
    proto = ws.subprotocol or ""
    stats["subprotocols"][proto] = stats["subprotocols"].get(proto, 0) + 1
    try:
        async for message in ws:
            stats["messages"] += 1
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass
    finally:
        stats["open"] -= 1


async def main():
    context = None
    if len(sys.argv) == 4 and sys.argv[1] == "--tls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(echo, "127.0.0.1", 0, ssl=context, backlog=4096, subprotocols=["chat.v1", "chat.v2"],
                                max_queue=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await stop
    print(json.dumps(stats), flush=True)


asyncio.run(main())
