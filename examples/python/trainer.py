"""The trainer side of the seed examples: one port, many games, told apart by URL path.

Every game connects to ``ws://HOST:PORT/<anything>`` (for instance ``/env/0`` or ``/client3``).
Each JSON message ``{"message": ..., "number": ..., "bool": ...}`` is answered like the small
server that motivated wsbridge: ``message`` and ``bool`` are set by the server, the rest is
echoed back.

    python examples/python/trainer.py --port 8001

With ``--port 0`` a free port is chosen; the first line printed is always ``listening on PORT``.
The server stops on Ctrl-C, or when its standard input closes if ``--stop-on-eof`` is given (so
a parent process that dies never leaves it behind).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from websockets.asyncio.server import ServerConnection, serve


def reply_to(message: dict, path: str) -> dict:
    """The server's answer to one game message."""
    reply = dict(message)
    reply["message"] = f"Message from Server to {path}"
    reply["bool"] = not bool(message.get("bool", False))
    return reply


async def handle(ws: ServerConnection) -> None:
    path = ws.request.path if ws.request else "?"
    print(f"[{path}] game connected", flush=True)
    async for raw in ws:
        try:
            message = json.loads(raw)
        except ValueError:
            await ws.close(1003, "expected a JSON object")
            return
        print(f"[{path}] received {json.dumps(message)}", flush=True)
        await ws.send(json.dumps(reply_to(message, path)))
    print(f"[{path}] game disconnected ({ws.close_code})", flush=True)


async def stdin_closed() -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001, help="0 picks a free port")
    parser.add_argument("--stop-on-eof", action="store_true", help="exit when stdin closes")
    args = parser.parse_args()
    async with serve(handle, args.host, args.port, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on {port}", flush=True)
        if args.stop_on_eof:
            await stdin_closed()
        else:
            await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
