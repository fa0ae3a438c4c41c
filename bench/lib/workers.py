"""Worker processes: one long-lived client program per row, driven over stdin/stdout, and
the echo server they all talk to.

A command that fails comes back as ``{"error": ...}``; a worker that dies or hangs past the
timeout is killed, its command reported as an error, and a fresh worker started for the next one.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import time
from pathlib import Path

from .rows import Row


def start_echod(build: Path) -> tuple[subprocess.Popen, int, int]:
    """Starts bench/server's echod from `build`: the process (it stops when its stdin closes),
    its WebSocket port and its raw TCP port."""
    server = subprocess.Popen([str(build / "echod")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout
    words = server.stdout.readline().split()
    if len(words) != 3 or words[0] != "PORT":
        raise SystemExit(f"bench: the echo server did not start (printed {words})")
    return server, int(words[1]), int(words[2])


class Worker:
    def __init__(self, row: Row, ws_port: int, raw_port: int, log: Path) -> None:
        self.row = row
        self.args = row.argv + ["--ws-port", str(ws_port), "--raw-port", str(raw_port)]
        self.proc: subprocess.Popen | None = None
        self.log = log  # the worker's stderr

    def start(self) -> None:
        env = dict(os.environ, **self.row.env)
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.pending = b""

    def command(self, line: str, timeout: float) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc and self.proc.stdin and self.proc.stdout
        try:
            self.proc.stdin.write((line + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            return self.died(line)
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while b"\n" not in self.pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.stop(kill=True)
                    return {"error": f"no answer to `{line}` within {timeout:.0f} s; worker killed"}
                if not sel.select(left):
                    continue
                chunk = self.proc.stdout.read()
                if not chunk:
                    return self.died(line)
                self.pending += chunk
        text, _, self.pending = self.pending.partition(b"\n")
        return json.loads(text)

    def died(self, line: str) -> dict:
        assert self.proc
        code = self.proc.wait()
        self.proc = None
        err = self.log.read_text(errors="replace").strip()[-600:] if self.log.exists() else ""
        return {"error": f"worker exited ({code}) during `{line}`: {err or 'no message'}"}

    def stop(self, kill: bool = False) -> None:
        if not self.proc:
            return
        if kill:
            self.proc.kill()
        else:
            try:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.wait()
        self.proc = None


def one_shot(row: Row, ws_port: int, raw_port: int, log: Path, line: str, timeout: float) -> dict:
    """Runs one command in a fresh worker (for memory measurements)."""
    w = Worker(row, ws_port, raw_port, log)
    try:
        return w.command(line, timeout)
    finally:
        w.stop()
