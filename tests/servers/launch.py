"""Start a test server as a child process and learn its port without sleeping.

Every server script here binds 127.0.0.1 on a free port, prints ``PORT <n>`` when it is
listening, and exits when its standard input closes. ``Server`` reads that line (blocking on the
pipe, not polling), and closing stdin stops it, so a test run that dies leaves nothing behind.
``serve_websockets`` is the other side of that protocol, for the ``websockets`` servers here.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SERVERS = Path(__file__).resolve().parent


class Server:
    def __init__(self, script: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVERS / script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"{script} did not start (printed {line!r}, exit {self.proc.returncode})")
        self.port = int(line.split()[1])

    def url(self, path: str = "/") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def abi_test_servers() -> Iterator[dict[str, str]]:
    """The servers tests/interop/abi_test.c expects, as the environment it reads their ports from: an
    echo server with raised limits, and one pinging every second with a one-second timeout."""
    with Server("wsserver.py", "--max-size", str(64 * 2**20)) as echo, Server(
        "wsserver.py", "--ping-interval", "1", "--ping-timeout", "1"
    ) as keepalive:
        yield {"WSB_ECHO_PORT": str(echo.port), "WSB_KEEPALIVE_PORT": str(keepalive.port)}


async def serve_websockets(handler: Any, process_request: Any, **options: Any) -> None:
    """Serves `handler` with ``websockets`` on 127.0.0.1 (compression off; the command-line
    options ``--ping-interval`` (0: no pings), ``--ping-timeout``, ``--max-size`` and ``--port``
    (default 0: a free one; a given port is for a server restarted where it was); `options`
    passed on to ``serve``), prints ``PORT <n>``, and returns when standard input closes."""
    from websockets.asyncio.server import serve  # imported here: Server alone needs no websockets

    parser = argparse.ArgumentParser()
    parser.add_argument("--ping-interval", type=float, default=20.0, help="0 disables pings")
    parser.add_argument("--ping-timeout", type=float, default=20.0)
    parser.add_argument("--max-size", type=int, default=2**20)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    async with serve(
        handler,
        "127.0.0.1",
        args.port,
        process_request=process_request,
        compression=None,
        ping_interval=args.ping_interval or None,
        ping_timeout=args.ping_timeout,
        max_size=args.max_size,
        **options,
    ) as server:
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
