"""The trainer side of `make soak`: a Python `websockets` server that checks every message.

A game connects to ``/soak/<conn>?seed=<seed>&n=<messages>`` and sends ``<messages>`` messages
whose kind, size (0 B to 256 KiB) and content both sides derive from ``(seed, conn, index)``
(see ``expected``; tests/soak/soak.c computes the same). The trainer checks that message ``i`` is
exactly message ``i``, byte for byte (so none is lost, repeated or reordered), and echoes it
back for the game to check the same way.

Prints ``PORT <n>`` once listening; when its standard input closes it prints one JSON line,
``{"connections": c, "messages": m, "bytes": b, "errors": [...]}``, and exits.
"""

from __future__ import annotations

import asyncio
import json
import sys
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

MASK = (1 << 64) - 1
MAX_SIZE = 256 * 1024
POOL_SIZE = 2 * MAX_SIZE


def mix(x: int) -> int:
    """splitmix64's finaliser: tests/soak/soak.c has the same function."""
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def pools(seed: int) -> tuple[bytes, str]:
    """The bytes messages are cut from: random bytes, and random lowercase letters."""
    raw = bytearray()
    for i in range(POOL_SIZE // 8):
        raw += mix(seed ^ (i << 20)).to_bytes(8, "little")
    text = bytes(ord("a") + b % 26 for b in raw).decode("ascii")
    return bytes(raw), text


def expected(seed: int, conn: int, index: int) -> tuple[bool, int, int]:
    """(is_text, size, offset into the pool) of message `index` on connection `conn`."""
    r = mix(seed ^ (conn << 40) ^ index)
    size_class = (r >> 1) % 20  # 0: empty; k: from 2^(k-1) to 2^k bytes; 19: 256 KiB
    if size_class == 0:
        size = 0
    else:
        low = 1 << (size_class - 1)
        size = min(MAX_SIZE, low + (r >> 8) % (low + 1))
    offset = (r >> 32) % (POOL_SIZE - size + 1)
    return bool(r & 1), size, offset


class Stats:
    def __init__(self) -> None:
        self.connections = 0
        self.messages = 0
        self.bytes = 0
        self.errors: list[str] = []
        self.pools: dict[int, tuple[bytes, str]] = {}


stats = Stats()


async def soak(ws: ServerConnection, conn: int, seed: int, count: int) -> None:
    if seed not in stats.pools:
        stats.pools[seed] = pools(seed)
    raw, text = stats.pools[seed]
    index = 0
    async for message in ws:
        if index >= count:
            stats.errors.append(f"connection {conn}: a message after the last ({count})")
            break
        is_text, size, offset = expected(seed, conn, index)
        want = text[offset : offset + size] if is_text else raw[offset : offset + size]
        if message != want:
            got = f"{'text' if isinstance(message, str) else 'binary'} of {len(message)}"
            stats.errors.append(
                f"connection {conn}: message {index} is {got}, want {'text' if is_text else 'binary'} of {size}"
            )
            await ws.close(1011, "soak: unexpected message")
            return
        await ws.send(message)
        index += 1
        stats.messages += 1
        stats.bytes += size
    if index != count:
        stats.errors.append(f"connection {conn}: {index} of {count} messages before the close")
    stats.connections += 1


async def handler(ws: ServerConnection) -> None:
    url = urlsplit(ws.request.path)
    parts = url.path.strip("/").split("/")
    query = parse_qs(url.query)
    try:
        conn, seed, count = int(parts[1]), int(query["seed"][0]), int(query["n"][0])
    except (IndexError, KeyError, ValueError):
        await ws.close(1008, "expected /soak/<conn>?seed=<seed>&n=<messages>")
        return
    try:
        await soak(ws, conn, seed, count)
    except ConnectionClosed as e:
        stats.errors.append(f"connection {conn}: closed early ({e})")


async def main() -> None:
    async with serve(handler, "127.0.0.1", 0, compression=None, max_size=MAX_SIZE) as server:
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    summary = {
        "connections": stats.connections,
        "messages": stats.messages,
        "bytes": stats.bytes,
        "errors": stats.errors[:20],
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
