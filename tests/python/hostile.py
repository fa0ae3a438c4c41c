"""A hostile peer in its own process, so that what the trainer process spends (memory, file
descriptors) can be measured without the attacker's own costs mixed in.

    python hostile.py message URL FILE     sends FILE's bytes as one message (binary, or text if
                                           FILE ends in .txt); prints {"code", "reason"} of the
                                           hub's close, or {"code": null} if none came in 20 s
    python hostile.py half-open PORT N     opens N TCP connections to 127.0.0.1:PORT that never
                                           send a byte; prints "opened N", then, once the hub has
                                           ended them all (or 60 s passed), {"busy": connections
                                           answered HTTP 503, "dropped": closed without an
                                           answer, "open": still open}
"""

from __future__ import annotations

import json
import selectors
import socket
import sys
import time
from pathlib import Path

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect


def message(url: str, file: str) -> None:
    data: bytes | str = Path(file).read_bytes()
    if file.endswith(".txt"):
        data = data.decode()
    result: dict[str, object] = {"code": None}
    with connect(url, max_size=None, open_timeout=20) as ws:
        try:
            ws.send(data)
            ws.recv(timeout=20)
        except ConnectionClosed as e:
            if e.rcvd is not None:
                result = {"code": e.rcvd.code, "reason": e.rcvd.reason}
        except TimeoutError:
            pass
    print(json.dumps(result), flush=True)


def half_open(port: int, n: int) -> None:
    sockets = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.setblocking(False)
        sockets.append(s)
    print(f"opened {len(sockets)}", flush=True)
    counts = {"busy": 0, "dropped": 0, "open": 0}
    answers = {s: b"" for s in sockets}
    selector = selectors.DefaultSelector()
    for s in sockets:
        selector.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + 60
    while answers and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=max(0.0, deadline - time.monotonic())):
            s = key.fileobj
            assert isinstance(s, socket.socket)
            try:
                chunk = s.recv(4096)
            except ConnectionError:
                chunk = b""
            if chunk:
                answers[s] += chunk
                continue
            counts["busy" if answers.pop(s).startswith(b"HTTP/1.1 503 ") else "dropped"] += 1
            selector.unregister(s)
            s.close()
    counts["open"] = len(answers)
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "message":
        message(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "half-open":
        half_open(int(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit(f"unknown command {sys.argv[1]!r}")
