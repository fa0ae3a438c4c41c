"""The `websocket-client` row (PyPI websocket-client, import name `websocket`): its blocking
WebSocket class, defaults (which include TCP_NODELAY), binary messages."""

from __future__ import annotations

import sys
from pathlib import Path

import websocket

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def open(url: str) -> websocket.WebSocket:  # noqa: A001 (the row interface)
    return websocket.create_connection(url)


def send(conn: websocket.WebSocket, data: bytes) -> None:
    conn.send_bytes(data)


def recv(conn: websocket.WebSocket) -> bytes:
    m = conn.recv()
    return m if isinstance(m, bytes) else m.encode()


def close(conn: websocket.WebSocket) -> None:
    conn.close()


if __name__ == "__main__":
    harness.main(sys.modules[__name__])
