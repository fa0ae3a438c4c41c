"""A child process that a test follows through its output: a game, a Mono program, the lobby.

``expect`` waits for the line the test needs (read by a thread, see ``lines.py``), never sleeps;
when the line does not come, the failure names the command, every line it printed and its
stderr. ``stop`` ends the process and closes its pipes after the reader is done with them.
"""

from __future__ import annotations

import queue
import subprocess
from collections.abc import Callable

from lines import Lines


class Process:
    """``Process(argv)``: runs ``argv``; ``log`` is the pipe whose lines ``expect`` waits on
    (``"stdout"``, or ``"stderr"`` for a program that logs there and prints on stdout only what
    the caller reads itself, as the lobby its port)."""

    def __init__(self, argv: list[str], *, log: str = "stdout", env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        stream = self.proc.stdout if log == "stdout" else self.proc.stderr
        assert stream is not None
        self.log = log
        self.out = Lines(stream)
        self.seen = self.out.seen

    def expect_line(self, match: Callable[[str], bool], wanted: str, timeout: float) -> str:
        """The next line that ``match`` accepts; fails if the process ends first or prints no
        line at all for ``timeout`` seconds (``wanted`` says what was waited for)."""
        try:
            line = self.out.until(match, timeout)
        except queue.Empty:
            raise AssertionError(f"{self.argv} printed no {wanted} in {timeout} s; it printed {self.seen}") from None
        if line is None:
            raise AssertionError(f"{self.argv} ended (status {self.proc.wait()}) without printing a {wanted}; "
                                 f"{self.log} {self.seen}, stderr {self.stderr()!r}")
        return line

    def expect(self, text: str, timeout: float = 30) -> str:
        """The next line containing ``text``."""
        return self.expect_line(lambda line: text in line, f"line with {text!r}", timeout)

    def expect_start(self, start: str, timeout: float = 30) -> str:
        """The next line starting with ``start``."""
        return self.expect_line(lambda line: line.startswith(start), f"line starting with {start!r}", timeout)

    def wait(self, timeout: float = 30) -> int:
        return self.proc.wait(timeout=timeout)

    def stderr(self) -> str:
        """What the process wrote on stderr, once it has ended."""
        if self.log == "stderr":
            return "\n".join(self.seen)
        if self.proc.poll() is None:
            return "(still running)"
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def stop(self, terminate: bool = False) -> None:
        """Ends the process (SIGKILL, or SIGTERM with ``terminate``) if it still runs, waits for
        it, and closes its pipes once the reader thread has read to the end."""
        if self.proc.poll() is None:
            if terminate:
                self.proc.terminate()
            else:
                self.proc.kill()
        self.proc.wait(timeout=30)
        self.out.thread.join(timeout=30)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()
