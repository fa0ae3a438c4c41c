"""Writes the starting corpus of the fuzz targets into fuzz/corpus/<target>, so the fuzzers
start from the formats instead of discovering them:

- `peer_bytes`: the malformed frames of tests/servers/rawws.py (and a few good ones). An input
  is `Input` of fuzz_targets/peer_bytes.rs as `arbitrary` reads it: one byte each for `upgrade`
  (odd: true), `limit`, `chunk` and `buffer`, then the bytes the server writes.
- `handshake_response`: upgrade answers (valid, refused, accepting an extension never offered,
  ...), directly and after a proxy's answer to CONNECT. An input is one byte for `proxy` (odd:
  true), one for `chunk`, then the bytes: through a proxy, a little-endian u16 length and the
  CONNECT answer first.

    python fuzz/seeds.py CORPUS_DIR
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "servers"))

from rawws import BINARY, CLOSE, CONT, FRAMES, PING, TEXT, frame  # noqa: E402

GOOD = {
    "text": frame(TEXT, b"hello"),
    "binary-126": frame(BINARY, bytes(126)),
    "binary-65536": frame(BINARY, bytes(65536)),
    "fragments": frame(TEXT, b"he", fin=False) + frame(PING, b"p") + frame(CONT, b"llo"),
    "close": frame(CLOSE, struct.pack("!H", 1000) + b"bye"),
    "two": frame(TEXT, b"a") + frame(BINARY, b"b"),
}


UPGRADE = (
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: {accept}\r\n"
)
ANSWERS = {
    "valid": UPGRADE + "\r\n",
    "valid-lf": UPGRADE.replace("\r\n", "\n") + "\n",
    "valid-then-frame": UPGRADE + "\r\n\x81\x05hello",
    "deflate": UPGRADE + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
    "deflate-empty": UPGRADE + "Sec-WebSocket-Extensions:  \r\n\r\n",
    "subprotocol": UPGRADE + "Sec-WebSocket-Protocol: chat\r\n\r\n",
    "bad-accept": UPGRADE.replace("{accept}", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=") + "\r\n",
    "no-upgrade": UPGRADE.replace("Upgrade: websocket\r\n", "") + "\r\n",
    "http10": UPGRADE.replace("HTTP/1.1", "HTTP/1.0") + "\r\n",
    "not-found": "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nno route\n",
    "redirect": "HTTP/1.1 301 Moved\r\nLocation: ws://elsewhere/\r\nContent-Length: 0\r\n\r\n",
    "unauthorized": "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\n\r\n",
    "truncated": UPGRADE,
    "garbage": "SSH-2.0-OpenSSH_9.2\r\n\r\n",
}
CONNECT_ANSWERS = {
    "established": "HTTP/1.1 200 Connection established\r\n\r\n",
    "http10": "HTTP/1.0 200 OK\r\nProxy-Agent: x\r\n\r\n",
    "auth": "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=x\r\n\r\n",
    "extra": "HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 101",
    "bad-status": "HTTP/1.1 2000 OK\r\n\r\n",
    "endless": "HTTP/1.1 200 OK\r\nX: y\r\n",
}


def handshake_response(corpus: Path) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    for name, answer in ANSWERS.items():
        for chunk in (0, 1):
            (corpus / f"direct-{name}-{chunk}").write_bytes(bytes([0, chunk]) + answer.encode())
    for name, connect in CONNECT_ANSWERS.items():
        for upgrade in ("valid", "deflate"):
            head = connect.encode()
            data = bytes([1, 0]) + struct.pack("<H", len(head)) + head + ANSWERS[upgrade].encode()
            (corpus / f"proxy-{name}-{upgrade}").write_bytes(data)
    print(f"fuzz seeds: {len(list(corpus.iterdir()))} inputs in {corpus}")


def main() -> None:
    handshake_response(Path(sys.argv[1]) / "handshake_response")
    corpus = Path(sys.argv[1]) / "peer_bytes"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, data in {**GOOD, **FRAMES}.items():
        for chunk in (0, 1):
            # upgraded, max_message_size 1 MiB (index 3), chunk size, a 64 KiB buffer (index 2)
            (corpus / f"{name}-{chunk}").write_bytes(bytes([1, 3, chunk, 2]) + data)
    (corpus / "http-404").write_bytes(bytes([0, 3, 0, 2]) + b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    print(f"fuzz seeds: {len(list(corpus.iterdir()))} inputs in {corpus}")


if __name__ == "__main__":
    main()
