"""A Python ``websockets`` server that behaves like a trainer having a bad day.

Routes, by path (anything else is answered with HTTP 404):

- ``/status/<code>``: refuses the upgrade with that HTTP status and the body
  ``refused with <code>``.
- ``/echo...``: every message is sent back unchanged.
- ``/partial-kill``: sends the text message ``complete``, then the first fragment of a message
  that never ends, then kills its own process with SIGKILL (so it serves one such test).
- ``/drop``: accepts the upgrade, then resets the TCP connection (no close frame).
- ``/flood/<size>``: sends binary messages of ``<size>`` bytes, each starting with its 8-byte
  big-endian sequence number, as fast as the client takes them, until the connection ends.
- ``/stall/<id>``: reads the first message, then stops reading until ``/resume/<id>`` is
  opened. Messages are binary, each starting with its 8-byte big-endian sequence number; the
  text message ``END`` is answered with a JSON summary:
  ``{"received": n, "in_order": bool, "problem": str | null}``.
- ``/freeze/<id>``: a frozen trainer: accepts the upgrade, then stops reading the socket (not even
  a close frame is seen or answered) until ``/resume/<id>`` is opened; then serves as echo.
- ``/resume/<id>``: lets ``/stall/<id>`` or ``/freeze/<id>`` read again; answers ``resumed``.
- ``/big/<n>``: sends one binary message of ``n`` bytes (one frame).
- ``/bigfrag/<n>``: sends one binary message of ``n`` bytes in four fragments.
- ``/idle``: echo; meant for a game that stops calling recv while the server pings.
- ``/report/<id>``: waits until the connection opened with the query ``?id=<id>`` has ended,
  then sends ``{"code": ..., "reason": ...}`` (the close code and reason the client sent).
- ``/refuse/<n>/<id>``: a trainer that refuses for a while: the first ``n`` upgrade requests
  for ``<id>`` are answered with HTTP 503, later ones are served as echo.
- ``/attempts/<id>``: sends the upgrade requests ``/refuse/<n>/<id>`` has seen, as text:
  ``<count> <gap> <gap> ...`` (the gaps between them in whole milliseconds, rounded down).

Any route accepts ``?id=<id>`` to have its close code recorded for ``/report/<id>``.
Prints ``PORT <n>`` once listening and exits when its standard input closes.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import struct
import sys
import time
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from launch import serve_websockets
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

ROUTES = (
    "echo", "partial-kill", "drop", "flood", "stall", "freeze", "resume", "big", "bigfrag", "idle", "report",
    "refuse", "attempts",
)

records: dict[str, tuple[int | None, str | None]] = {}
recorded = asyncio.Condition()
resumes: dict[str, asyncio.Event] = {}
attempts: dict[str, list[float]] = {}


def split(target: str) -> tuple[list[str], str | None]:
    url = urlsplit(target)
    return url.path.strip("/").split("/"), parse_qs(url.query).get("id", [None])[0]


def process_request(connection: ServerConnection, request: Request) -> Response | None:
    parts, _ = split(request.path)
    if parts[0] == "status" and len(parts) == 2:
        code = int(parts[1])
        return connection.respond(HTTPStatus(code), f"refused with {code}\n")
    if parts[0] == "refuse" and len(parts) == 3:
        seen = attempts.setdefault(parts[2], [])
        seen.append(time.monotonic())
        if len(seen) <= int(parts[1]):
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, f"refusing attempt {len(seen)}\n")
    if parts[0] not in ROUTES:
        return connection.respond(HTTPStatus.NOT_FOUND, f"no route for {request.path}\n")
    return None


def resume_event(ident: str) -> asyncio.Event:
    return resumes.setdefault(ident, asyncio.Event())


async def echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


async def partial_kill(ws: ServerConnection) -> None:
    await ws.send("complete")

    async def fragments():
        yield "the first fragment of a message that never ends"
        # The fragment has been written to the socket: the kernel sends it even after the
        # process is gone, then closes the connection.
        if ws.transport.get_write_buffer_size() != 0:
            print("misbehave: the fragment is still buffered", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    await ws.send(fragments())


async def drop(ws: ServerConnection) -> None:
    sock = ws.transport.get_extra_info("socket")
    # Linger 0: close() sends a TCP reset instead of a FIN.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.transport.abort()


async def flood(ws: ServerConnection, size: int) -> None:
    body = bytes(max(size - 8, 0))
    seq = 0
    while True:
        await ws.send(struct.pack("!Q", seq) + body)
        seq += 1


async def stall(ws: ServerConnection, ident: str) -> None:
    expected, problem = 0, None
    first = True
    async for message in ws:
        if message == "END":
            summary = {"received": expected, "in_order": problem is None, "problem": problem}
            await ws.send(json.dumps(summary))
            continue
        seq = struct.unpack("!Q", message[:8])[0] if len(message) >= 8 else -1
        if seq != expected and problem is None:
            problem = f"message {expected} expected, got {seq}"
        expected += 1
        if first:
            first = False
            await resume_event(ident).wait()


async def freeze(ws: ServerConnection, ident: str) -> None:
    ws.transport.pause_reading()
    await resume_event(ident).wait()
    ws.transport.resume_reading()
    await echo(ws)


async def resume(ws: ServerConnection, ident: str) -> None:
    resume_event(ident).set()
    await ws.send("resumed")


async def big(ws: ServerConnection, n: int, fragmented: bool) -> None:
    if fragmented:
        q = n // 4
        await ws.send([bytes(q), bytes(q), bytes(q), bytes(n - 3 * q)])
    else:
        await ws.send(bytes(n))
    await ws.wait_closed()


async def report(ws: ServerConnection, ident: str) -> None:
    async with recorded:
        await asyncio.wait_for(recorded.wait_for(lambda: ident in records), 30)
        code, reason = records[ident]
    await ws.send(json.dumps({"code": code, "reason": reason}))


async def handler(ws: ServerConnection) -> None:
    parts, ident = split(ws.request.path)
    route, arg = parts[0], parts[1] if len(parts) > 1 else ""
    try:
        if route in ("echo", "idle", "refuse"):
            await echo(ws)
        elif route == "partial-kill":
            await partial_kill(ws)
        elif route == "drop":
            await drop(ws)
        elif route == "flood":
            await flood(ws, int(arg))
        elif route == "stall":
            await stall(ws, arg)
        elif route == "freeze":
            await freeze(ws, arg)
        elif route == "resume":
            await resume(ws, arg)
        elif route in ("big", "bigfrag"):
            await big(ws, int(arg), route == "bigfrag")
        elif route == "report":
            await report(ws, arg)
        elif route == "attempts":
            seen = attempts.get(arg, [])
            gaps = [int((b - a) * 1000) for a, b in zip(seen, seen[1:])]
            await ws.send(" ".join(str(n) for n in [len(seen), *gaps]))
    except (ConnectionClosed, OSError):
        pass  # the client went away (what it sent is in close_code, recorded below)
    finally:
        if ident is not None:
            await ws.wait_closed()
            async with recorded:
                records[ident] = (ws.close_code, ws.close_reason)
                recorded.notify_all()


def quiet_teardown(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """asyncio logs a socket error when a client the tests drop mid-write goes away: expected
    here, so not printed; anything else is."""
    if isinstance(context.get("exception"), (ConnectionError, OSError)):
        return
    loop.default_exception_handler(context)


async def main() -> None:
    asyncio.get_running_loop().set_exception_handler(quiet_teardown)
    await serve_websockets(handler, process_request)
    os._exit(0)  # no graceful close of the connections a test left in a bad state


if __name__ == "__main__":
    asyncio.run(main())
