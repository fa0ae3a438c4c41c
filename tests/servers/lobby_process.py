"""A real lobby (``python -m wsbridge.lobby``) in its own process, for tests of games that find
their slot through it (the native env layer's ``lobby`` option).

The lobby prints its port on stdout once it listens (read by blocking on the pipe, not polling);
its log lines (stderr) are collected by a thread, so ``expect`` waits for one (a hub registered,
a slot assigned) on a queue instead of sleeping.
"""

from __future__ import annotations

import sys

from process import Process


class LobbyProcess(Process):
    """``LobbyProcess(token=..., hub_token=...)``: a lobby on 127.0.0.1 and a free port;
    ``expect(text)`` waits for a log line containing ``text``."""

    def __init__(self, token: str | None = None, hub_token: str | None = None) -> None:
        argv = [sys.executable, "-m", "wsbridge.lobby", "--host", "127.0.0.1", "--port", "0"]
        if token is not None:
            argv += ["--token", token]
        if hub_token is not None:
            argv += ["--hub-token", hub_token]
        super().__init__(argv, log="stderr")
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # its port, once it listens
        if not line.strip().isdigit():
            self.close()
            raise RuntimeError(f"`{' '.join(argv)}` printed {line!r} instead of its port; its log: {self.seen}")
        self.port = int(line)

    def url(self, path: str = "/lobby") -> str:
        """The lobby's URL for games (``/lobby``), or for hubs with ``/lobby/hubs``."""
        return f"ws://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.stop(terminate=True)
