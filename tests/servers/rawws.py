"""A raw-socket WebSocket server that does what a correct server never does.

``websockets`` refuses to send malformed frames or botched upgrades, so this server speaks
HTTP and the frame format by hand (RFC 6455). Routes, by the request path:

- ``/mute``: accepts TCP, reads the upgrade request and never answers.
- ``/hangup``: reads the request and closes the connection without a word.
- ``/garbage``: answers the upgrade with bytes that are not HTTP, then closes.
- ``/bad-accept``: answers ``101`` with a wrong ``Sec-WebSocket-Accept``.
- ``/deflate``: answers ``101`` accepting ``permessage-deflate``, which the client never
  offered (RFC 6455 4.1: the client must fail the connection), then sends a deflated message.
- ``/frame/<name>``: upgrades, sends the text message ``hello``, then the malformed bytes
  named by ``<name>`` (see ``FRAMES``); then reads the client's frames and records the close
  code it sends (or ``None`` if TCP ends first) and the text messages it sent before it.
- ``/noclose``: upgrades and reads everything the client sends, but never answers its close
  frame and never closes TCP.
- ``/close-no-eof``: upgrades, answers the client's close frame, and keeps TCP open.
- ``/ping-flood``: upgrades, then sends pings (125-byte payloads) as fast as the socket takes
  them and never reads a byte: the client's pongs pile up unless it stops reading.
  ``/ping-flood/<n>``: the same for ``n`` MiB of pings, then reads and discards everything.
- ``/report/<id>``: upgrades, waits until the connection with query ``?id=<id>`` has ended,
  sends ``{"code": ..., "answers": [...]}`` (the text messages received before the close) as a
  text message and closes normally.

Prints ``PORT <n>`` once listening and exits when its standard input closes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import struct
import sys
import threading
from urllib.parse import parse_qs, urlsplit

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

records: dict[str, dict[str, object]] = {}
recorded = threading.Condition()


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0,
          mask: bytes | None = None, length: bytes | None = None) -> bytes:
    """One frame; ``length`` replaces the encoded length field (to lie about it)."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    if length is None:
        if n < 126:
            length = bytes([n])
        elif n < 65536:
            length = bytes([126]) + struct.pack("!H", n)
        else:
            length = bytes([127]) + struct.pack("!Q", n)
    if mask is not None:
        length = bytes([length[0] | 0x80]) + length[1:]
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([first]) + length + (mask or b"") + payload


TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA

# What follows the "hello" message for /frame/<name>.
FRAMES: dict[str, bytes] = {
    "opcode-3": frame(0x3, b"data"),
    "opcode-11": frame(0xB, b"ctrl"),
    "rsv1": frame(TEXT, b"deflated?", rsv=4),
    "rsv2": frame(TEXT, b"x", rsv=2),
    "rsv3": frame(BINARY, b"x", rsv=1),
    "masked": frame(TEXT, b"masked by the server", mask=b"\x01\x02\x03\x04"),
    # 64-bit length with the most significant bit set (RFC 6455 5.2: it MUST be 0).
    "len-msb": frame(BINARY, b"", length=bytes([127]) + struct.pack("!Q", 1 << 63)),
    # Says 2 bytes, carries 5: the surplus "llo" is read as the next header (RSV bits set).
    "len-short": frame(TEXT, b"hello", length=bytes([2])),
    # A 16-bit length field for a 5-byte payload (not the minimal encoding).
    "len-nonminimal": frame(TEXT, b"hello", length=bytes([126]) + struct.pack("!H", 5)),
    # A 1 TiB frame: over any max_message_size, refused from the header alone.
    "len-huge": frame(BINARY, b"", length=bytes([127]) + struct.pack("!Q", 1 << 40)),
    "utf8-text": frame(TEXT, b"caf\xc3"),
    "utf8-fragmented": frame(TEXT, b"ok \xe2\x82", fin=False) + frame(CONT, b"\xff end"),
    "ping-fragmented": frame(PING, b"p", fin=False),
    "ping-oversized": frame(PING, b"p" * 126),
    "close-oversized": frame(CLOSE, struct.pack("!H", 1000) + b"r" * 124),
    "cont-no-start": frame(CONT, b"orphan"),
    "text-in-fragment": frame(TEXT, b"first ", fin=False) + frame(TEXT, b"second"),
    "close-code-1005": frame(CLOSE, struct.pack("!H", 1005)),
    "close-code-999": frame(CLOSE, struct.pack("!H", 999)),
    "close-1-byte": frame(CLOSE, b"\x03"),
    "close-bad-utf8": frame(CLOSE, struct.pack("!H", 1000) + b"\xff\xfe"),
    # Not malformed: a close frame without a code (the peer's status is then 1005).
    "close-empty": frame(CLOSE),
}


def read_request(conn: socket.socket) -> tuple[str, dict[str, str]] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    target = head[0].split(" ")[1]
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return target, headers


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def upgrade(conn: socket.socket, headers: dict[str, str], key: str | None = None, extra: str = "") -> None:
    """Answers 101; ``extra`` is more header lines, each ending in CRLF."""
    key = key or accept_key(headers.get("sec-websocket-key", ""))
    conn.sendall(
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {key}\r\n{extra}\r\n"
        ).encode()
    )


def recv_exact(conn: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_frame(conn: socket.socket) -> tuple[int, bytes] | None:
    """One (masked) client frame: (opcode, payload), or None at EOF."""
    head = recv_exact(conn, 2)
    if head is None:
        return None
    opcode, n = head[0] & 0x0F, head[1] & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exact(conn, 2) or b"\0\0")[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(conn, 8) or b"\0" * 8)[0]
    mask = recv_exact(conn, 4) if head[1] & 0x80 else b"\0\0\0\0"
    payload = recv_exact(conn, n) if n else b""
    if mask is None or payload is None:
        return None
    return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def wait_for_close(conn: socket.socket, texts: list[str] | None = None) -> tuple[int | None, bytes]:
    """Reads client frames until its close frame (its code) or EOF (None); appends the text
    messages before it to ``texts``."""
    while True:
        try:
            got = read_frame(conn)
        except OSError:
            return None, b""
        if got is None:
            return None, b""
        opcode, payload = got
        if opcode == TEXT and texts is not None:
            texts.append(payload.decode("utf-8", "replace"))
        if opcode == CLOSE:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            return code, payload


def record(ident: str | None, code: int | None, answers: list[str] | None = None) -> None:
    if ident is None:
        return
    with recorded:
        records[ident] = {"code": code, "answers": answers or []}
        recorded.notify_all()


def hold(conn: socket.socket) -> None:
    """Reads and discards until the peer goes away; never answers."""
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


def serve(conn: socket.socket) -> None:
    with conn:
        request = read_request(conn)
        if request is None:
            return
        target, headers = request
        url = urlsplit(target)
        path, ident = url.path, parse_qs(url.query).get("id", [None])[0]
        if path == "/mute":
            hold(conn)
        elif path == "/hangup":
            return
        elif path == "/garbage":
            conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\x00\x01\x02 not an HTTP response\r\n\r\n")
        elif path == "/bad-accept":
            upgrade(conn, headers, key=accept_key("a different key"))
            hold(conn)
        elif path == "/deflate":
            upgrade(conn, headers, extra="Sec-WebSocket-Extensions: permessage-deflate\r\n")
            conn.sendall(frame(TEXT, b"\xcaH\xcd\xc9\xc9\x07\x00", rsv=4))  # "hello", deflated
            hold(conn)
        elif path.startswith("/frame/"):
            name = path[len("/frame/"):]
            upgrade(conn, headers)
            conn.sendall(frame(TEXT, b"hello") + FRAMES[name])
            answers: list[str] = []
            code, _ = wait_for_close(conn, answers)
            record(ident, code, answers)
        elif path == "/ping-flood" or path.startswith("/ping-flood/"):
            upgrade(conn, headers)
            pings = frame(PING, b"p" * 125) * 8256  # about 1 MiB a write
            mib = int(path[len("/ping-flood/"):] or 0) if path != "/ping-flood" else None
            try:
                sent = 0
                while mib is None or sent < mib:
                    conn.sendall(pings)
                    sent += 1
            except OSError:
                return
            hold(conn)
        elif path == "/noclose":
            upgrade(conn, headers)
            hold(conn)
        elif path == "/close-no-eof":
            upgrade(conn, headers)
            code, payload = wait_for_close(conn)
            record(ident, code)
            if code is not None:
                conn.sendall(frame(CLOSE, payload))
            hold(conn)
        elif path.startswith("/report/"):
            wanted = path[len("/report/"):]
            with recorded:
                recorded.wait_for(lambda: wanted in records, timeout=30)
                report = records.get(wanted, {"code": "not recorded within 30 s"})
            upgrade(conn, headers)
            conn.sendall(frame(TEXT, json.dumps(report).encode()))
            conn.sendall(frame(CLOSE, struct.pack("!H", 1000)))
            wait_for_close(conn)
        else:
            body = f"no route for {path}\n".encode()
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


def main() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)

    def accept_loop() -> None:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    sys.stdin.read()
    os._exit(0)  # daemon threads may be blocked in recv: leave without waiting for them


if __name__ == "__main__":
    main()
