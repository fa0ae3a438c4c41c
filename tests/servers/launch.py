"""Start a test server as a child process and learn its port without sleeping.

Every server script here binds 127.0.0.1 on a free port, prints ``PORT <n>`` when it is
listening, and exits when its standard input closes. ``Server`` reads that line (blocking on the
pipe, not polling), and closing stdin stops it, so a test run that dies leaves nothing behind.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
