"""The Python `websockets` row: its threaded sync client (websockets.sync.client), as a Python
game or tool would use it. Compression off (as websockets' docs advise for benchmarks) and
max_size raised so 1 MiB messages pass, `legacy=True` (connect returns the connection, the
usage the docs show for code that keeps a connection open); everything else default."""

from __future__ import annotations

import sys
from pathlib import Path

from websockets.sync.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def open(url: str) -> ClientConnection:  # noqa: A001 (the row interface)
    return connect(url, compression=None, max_size=64 << 20, legacy=True)


def send(conn: ClientConnection, data: bytes) -> None:
    conn.send(data)


def recv(conn: ClientConnection) -> bytes:
    m = conn.recv()
    return m if isinstance(m, bytes) else m.encode()


def close(conn: ClientConnection) -> None:
    conn.close()


if __name__ == "__main__":
    harness.main(sys.modules[__name__])
