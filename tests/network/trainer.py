"""A trainer for the network tests: Python ``websockets``, plain or over TLS.

Every connection first gets a greeting, a JSON text naming this trainer and what it saw of the
request (path, query, peer address, headers), so a test can tell which trainer answered and
through what; then everything it receives is echoed.

- ``/burst/<n>``: after the greeting, the texts ``m0`` ... ``m<n-1>`` are written with a single
  write to the transport, so over TLS they share one TLS record (one decrypt hands all of them
  to the client at once).
- ``--token T``: connections must carry ``?token=T`` or ``Authorization: Bearer T``; others are
  refused with HTTP 401 before the upgrade.

Prints ``PORT <n>`` once listening on 127.0.0.1 and exits when its standard input closes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response


def text_frame(payload: bytes) -> bytes:
    assert len(payload) < 126
    return bytes([0x81, len(payload)]) + payload  # FIN + text, unmasked (server to client)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--cert", help="certificate chain (PEM): serve wss://")
    parser.add_argument("--key")
    parser.add_argument("--token")
    args = parser.parse_args()

    def check_token(connection: ServerConnection, request: Request) -> Response | None:
        if args.token is None:
            return None
        query = parse_qs(urlsplit(request.path).query)
        bearer = request.headers.get("Authorization", "")
        if query.get("token") == [args.token] or bearer == f"Bearer {args.token}":
            return None
        return connection.respond(HTTPStatus.UNAUTHORIZED, "missing or wrong token\n")

    async def handler(ws: ServerConnection) -> None:
        parts = urlsplit(ws.request.path)
        greeting = {
            "name": args.name,
            "path": parts.path,
            "query": parts.query,
            "peer": ws.remote_address[0],
            "headers": {k.lower(): v for k, v in ws.request.headers.raw_items()},
        }
        await ws.send(json.dumps(greeting))
        if parts.path.startswith("/burst/"):
            n = int(parts.path.split("/")[2])
            ws.transport.write(b"".join(text_frame(f"m{i}".encode()) for i in range(n)))
        try:
            async for message in ws:
                await ws.send(message)
        except ConnectionClosed:
            pass

    async def serve_forever() -> None:
        context = None
        if args.cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(args.cert, args.key)
        async with serve(
            handler,
            "127.0.0.1",
            0,
            ssl=context,
            process_request=check_token,
            compression=None,
            max_size=16 * 2**20,
        ) as server:
            print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(serve_forever())


if __name__ == "__main__":
    main()
