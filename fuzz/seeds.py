"""Writes the starting corpus of the `peer_bytes` fuzz target into fuzz/corpus/peer_bytes:
the malformed frames of tests/servers/rawws.py (and a few good ones), so the fuzzer starts
from the frame format instead of discovering it.

An input is `Input` of fuzz_targets/peer_bytes.rs as `arbitrary` reads it: one byte each for
`upgrade` (odd: true), `limit`, `chunk` and `buffer`, then the bytes the server writes.

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


def main() -> None:
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
