"""A Python ``websockets`` server for the interop tests, routed by path.

Routes (anything else is answered with HTTP 404):

- ``/echo/...``, ``/env/...``, ``/client...``: every message is sent back unchanged.
- ``/close/<code>/<reason>``: sends ``"closing"`` then closes with that code and reason.
- ``/record/<id>``: echo, and remember the close code and reason the client sends.
- ``/report/<id>``: waits until ``/record/<id>`` has closed, sends ``{"code", "reason"}`` as JSON.
- ``/silent``: accepts and never sends a data message.
- ``/headers``: sends the request headers as a JSON object, then echoes.

The server offers the subprotocol ``wsb.v1``.

Prints ``PORT <n>`` once listening and exits when its standard input closes, so a test that
dies never leaves it behind.
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from urllib.parse import unquote

from launch import serve_websockets
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

ECHO_PREFIXES = ("/echo", "/env/", "/client")
records: dict[str, tuple[int | None, str | None]] = {}
recorded = asyncio.Condition()


def route(path: str) -> str | None:
    if path.startswith(ECHO_PREFIXES):
        return "echo"
    for name in ("close", "record", "report", "silent", "headers"):
        if path == f"/{name}" or path.startswith(f"/{name}/"):
            return name
    return None


def refuse_unknown(connection: ServerConnection, request: Request) -> Response | None:
    if route(request.path.split("?")[0]) is None:
        return connection.respond(HTTPStatus.NOT_FOUND, f"no route for {request.path}\n")
    return None


async def echo(ws: ServerConnection) -> None:
    try:
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass  # closed with an error code: the close code is what the tests look at


async def handler(ws: ServerConnection) -> None:
    path = ws.request.path.split("?")[0]
    kind = route(path)
    parts = path.split("/")
    if kind == "echo":
        await echo(ws)
    elif kind == "close":
        await ws.send("closing")
        await ws.close(int(parts[2]), unquote(parts[3]) if len(parts) > 3 else "")
    elif kind == "record":
        await echo(ws)
        async with recorded:
            records[parts[2]] = (ws.close_code, ws.close_reason)
            recorded.notify_all()
    elif kind == "report":
        async with recorded:
            await recorded.wait_for(lambda: parts[2] in records)
            code, reason = records[parts[2]]
        await ws.send(json.dumps({"code": code, "reason": reason}))
        await ws.wait_closed()
    elif kind == "silent":
        await ws.wait_closed()
    elif kind == "headers":
        await ws.send(json.dumps(dict(ws.request.headers.raw_items())))
        await echo(ws)


async def main() -> None:
    await serve_websockets(
        handler,
        refuse_unknown,
        subprotocols=["wsb.v1"],
        select_subprotocol=lambda _conn, offered: "wsb.v1" if "wsb.v1" in offered else None,
    )


if __name__ == "__main__":
    asyncio.run(main())
