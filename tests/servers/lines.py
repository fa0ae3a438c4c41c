"""The lines of a child process's text pipe, read to its end by a thread into a queue, so that a
test waits for the line it expects (a port, "connected", a log line) instead of sleeping or
polling. Used by every test helper that runs a game or a server as a process.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import IO


class Lines:
    """``Lines(proc.stdout)``: ``seen`` holds every line taken so far, in order."""

    def __init__(self, stream: IO[str]) -> None:
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.queue.put(line.rstrip("\n"))
        self.queue.put(None)

    def until(self, match: Callable[[str], bool], timeout: float) -> str | None:
        """The next line that ``match`` accepts, or None if the pipe ended first; raises
        ``queue.Empty`` if no line at all came for ``timeout`` seconds."""
        while True:
            line = self.queue.get(timeout=timeout)
            if line is None:
                return None
            self.seen.append(line)
            if match(line):
                return line

    def rest(self, timeout: float) -> None:
        """Takes the lines left, up to the end of the pipe (the process has exited)."""
        while (line := self.queue.get(timeout=timeout)) is not None:
            self.seen.append(line)
