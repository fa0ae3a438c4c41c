"""Launching and supervising game processes, and the environments that own what they started.

:class:`Launcher` starts one process per slot from a command, with the slot in its arguments
(``{url}``, ``{hub}``, ``{slot}``, ``{port}`` placeholders) and its environment
(``WSBRIDGE_URL``, ``WSBRIDGE_HUB``, ``WSBRIDGE_SLOT``, ``WSBRIDGE_TOKEN``), each in its own
process group, with its output in a log file per game. A game that exits while the launcher is
open is restarted, up to ``max_restarts`` times; :meth:`Launcher.close` kills them all.

:func:`make_vector_env` builds a :class:`RemoteVectorEnv` that owns its hub and (given a
command) its games: ``env.close()`` stops all of them.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .hub import Explanation, Hub
from .lockstep import CONNECT_TIMEOUT
from .vector import RemoteVectorEnv

__all__ = ["Launcher", "make_hub", "make_vector_env"]

logger = logging.getLogger("wsbridge")

#: Log lines of a game quoted in errors.
TAIL_LINES = 10


class _Game:
    """One slot's process and what is known about it."""

    def __init__(self, slot: str, log: Path) -> None:
        self.slot, self.log = slot, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.failed: str | None = None  # why it is not restarted any more
        self.watcher: threading.Thread | None = None


class Launcher:
    """Starts and supervises one game process per slot of ``hub``.

    Args:
        command: the program and its arguments. In each argument ``{url}`` becomes the slot's
            URL (``ws://127.0.0.1:8001/env/3``), ``{hub}`` the hub's (``ws://127.0.0.1:8001``),
            ``{slot}`` the slot id and ``{port}`` the port. The same reach the process as
            ``WSBRIDGE_URL``, ``WSBRIDGE_HUB``, ``WSBRIDGE_SLOT`` and ``WSBRIDGE_PORT`` in its
            environment, plus ``WSBRIDGE_TOKEN`` if the hub has a token (never in the
            arguments, which other users of the machine can read).
        hub: a started hub.
        slots: the slots to launch (default: all of the hub's).
        log_dir: where each game's output goes (``game-<slot>.log``, stdout and stderr,
            appended across restarts); default: a new temporary folder, kept after close.
        max_restarts: how many times in all one game is restarted after it exits while the
            launcher is open (0: never).
        env: extra environment variables; ``cwd``: the working directory.
        kill_timeout: seconds a game has to exit after SIGTERM on :meth:`close`, before SIGKILL.

    If the hub registers with a lobby, the launched slots are withheld from it (:meth:`Hub.withhold`)
    until :meth:`close`: its games are told their slot, and the lobby hands out the others.
    """

    def __init__(self, command: Sequence[str], hub: Hub, slots: Sequence[str | int] | None = None, *,
                 log_dir: str | os.PathLike[str] | None = None, max_restarts: int = 3,
                 env: Mapping[str, str] | None = None, cwd: str | os.PathLike[str] | None = None,
                 kill_timeout: float = 5.0) -> None:
        if not command:
            raise ValueError("command must name a program")
        if type(max_restarts) is not int or max_restarts < 0:
            raise ValueError(f"max_restarts must be a non-negative integer, not {max_restarts!r}")
        self.command, self.hub = [str(c) for c in command], hub
        self.max_restarts, self.kill_timeout = max_restarts, kill_timeout
        self.log_dir = Path(log_dir) if log_dir is not None else Path(tempfile.mkdtemp(prefix="wsbridge-games-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._env, self._cwd = dict(env or {}), cwd
        self._lock = threading.Lock()
        self._closing = False
        chosen = list(hub.slots) if slots is None else [str(s) for s in slots]
        self._games = {s: _Game(s, self.log_dir / f"game-{s}.log") for s in chosen}
        # The games it starts are told their slot: the hub's lobby must not hand those slots out.
        hub.withhold(chosen)
        try:
            for game in self._games.values():
                self._spawn(game)
        except BaseException:
            self.close()
            raise
        logger.info("launched %d games (%s ...), logs in %s", len(chosen), " ".join(self.argv(chosen[0])),
                    self.log_dir)

    def argv(self, slot: str) -> list[str]:
        """The command for ``slot``, placeholders replaced."""
        values = {"url": self.hub.url(slot), "hub": self.hub.url(), "slot": slot, "port": str(self.hub.port)}
        return [arg.format_map(values) for arg in self.command]

    def pids(self) -> dict[str, int | None]:
        """The running process of each slot (``None`` for a game that is not running)."""
        with self._lock:
            return {s: g.proc.pid if g.proc is not None and g.proc.poll() is None else None
                    for s, g in self._games.items()}

    def restarts(self) -> dict[str, int]:
        """How many times each game was restarted."""
        with self._lock:
            return {s: g.restarts for s, g in self._games.items()}

    def tail(self, slot: str, lines: int = TAIL_LINES) -> list[str]:
        """The last ``lines`` lines of a game's log."""
        try:
            with open(self._games[str(slot)].log, "rb") as f:
                return [line.decode(errors="replace").rstrip("\n")
                        for line in collections.deque(f, maxlen=lines)]
        except FileNotFoundError:
            return []

    def explain(self, slots: list[str]) -> Explanation:
        """What is known about the games at ``slots`` (for error messages): their state and the
        last lines of their logs; ``failed`` when every one of them has failed for good (exited
        more than ``max_restarts`` times), so that waiting for them is over."""
        parts, failed = [], 0
        for slot in slots:
            game = self._games.get(slot)
            if game is None:
                continue
            with self._lock:
                state = game.failed or ("running" if game.proc is not None and game.proc.poll() is None
                                        else "not running")
                failed += game.failed is not None
            tail = self.tail(slot)
            shown = " | ".join(tail) if tail else "(no output)"
            parts.append(f"game {self.hub.path_prefix}{slot}: {state}, log {game.log}: {shown}")
        text = "; ".join(parts)
        return Explanation(text, failed=bool(parts) and failed == len(parts))

    def stop_restarting(self) -> None:
        """From now on a game that exits stays stopped."""
        with self._lock:
            self._closing = True

    def close(self, exit_timeout: float = 0.0) -> None:
        """Kills every game's process group (SIGTERM, then SIGKILL after ``kill_timeout``).

        ``exit_timeout``: seconds the games have, all together, to exit on their own first (for
        instance after the hub told them training is over with close code 1000); those still
        running then are killed.
        """
        with self._lock:
            self._closing = True
            procs = [g.proc for g in self._games.values() if g.proc is not None]
        deadline = time.monotonic() + exit_timeout
        for proc in procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in procs:
            _signal_group(proc, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=self.kill_timeout)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
            _signal_group(proc, signal.SIGKILL)  # whatever the game itself started
        for game in self._games.values():
            if game.watcher is not None and game.watcher is not threading.current_thread():
                game.watcher.join()
        self.hub.withhold(self._games, withheld=False)  # the hub's lobby may hand them out again

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _spawn(self, game: _Game) -> None:
        """Starts ``game``'s process (the lock is held or nobody else runs yet)."""
        env = {**os.environ, **self._env, "WSBRIDGE_URL": self.hub.url(game.slot), "WSBRIDGE_HUB": self.hub.url(),
               "WSBRIDGE_SLOT": game.slot, "WSBRIDGE_PORT": str(self.hub.port)}
        token = self.hub._token
        if token is not None:
            env["WSBRIDGE_TOKEN"] = token
        argv = self.argv(game.slot)
        with open(game.log, "ab") as log:
            try:
                game.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                             env=env, cwd=self._cwd, start_new_session=True)
            except OSError as e:
                raise OSError(e.errno, f"cannot launch the game for {self.hub.url(game.slot)}: {argv[0]}: "
                                       f"{e.strerror}") from None
        game.watcher = threading.Thread(target=self._watch, args=(game, game.proc), daemon=True,
                                        name=f"wsbridge-game-{game.slot}")
        game.watcher.start()

    def _watch(self, game: _Game, proc: subprocess.Popen[bytes]) -> None:
        """Waits for ``proc`` to end (on its own thread), then restarts it or gives up."""
        status = proc.wait()
        with self._lock:
            if self._closing:
                return
            tail = " | ".join(self.tail(game.slot, 5)) or "(no output)"
            if game.restarts < self.max_restarts:
                game.restarts += 1
                logger.warning("game %s%s (pid %d) exited with status %d; restarting it (%d of %d); its last "
                               "lines: %s", self.hub.path_prefix, game.slot, proc.pid, status, game.restarts,
                               self.max_restarts, tail)
                try:
                    self._spawn(game)
                    return
                except OSError as e:
                    game.failed = str(e)
            else:
                game.failed = f"exited with status {status} after {game.restarts} restarts (max_restarts)"
            logger.error("game %s%s %s; its last lines: %s", self.hub.path_prefix, game.slot, game.failed, tail)
        self.hub.notify()


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(proc.pid, sig)  # start_new_session: the group id is the game's pid
    except (ProcessLookupError, PermissionError):
        pass


def make_hub(games: int | Sequence[str], **hub_kwargs: Any) -> Hub:
    """A started :class:`Hub` on ``127.0.0.1`` and a free port unless told otherwise."""
    return Hub(games, **{"port": 0, **hub_kwargs}).start()


def make_vector_env(command: Sequence[str] | None = None, *, games: int | Sequence[str] = 1,
                    hub: Hub | None = None, log_dir: str | os.PathLike[str] | None = None, max_restarts: int = 3,
                    game_env: Mapping[str, str] | None = None, cwd: str | os.PathLike[str] | None = None,
                    connect_timeout: float | None = CONNECT_TIMEOUT, progress: bool = True,
                    on_lost: str = "raise", **hub_kwargs: Any) -> RemoteVectorEnv:
    """A :class:`RemoteVectorEnv` over ``games`` slots that owns what it starts.

    Without ``hub``, starts one (``hub_kwargs`` are :class:`Hub` arguments; ``port=0`` by
    default). With ``command``, launches and supervises one game per slot (:class:`Launcher`);
    without, waits for games launched by someone else. ``env.close()`` kills the games it
    launched and closes the hub it started. Errors about missing or lost games quote the last
    lines of those games' logs.

    With ``lobby=`` (and ``lobby_token``, ``advertise``, ``hub_id``, ``env_name``: :class:`Hub`
    arguments) the hub offers its free slots to that lobby (``docs/protocol.md``, *Lobby*):
    without ``command`` the games find it through the lobby; the games of a ``command`` keep
    their fixed slots (withheld from the lobby).
    """
    owned_hub = hub is None
    hub = make_hub(games, **hub_kwargs) if hub is None else hub
    launcher = None
    try:
        if command is not None:
            launcher = Launcher(command, hub, log_dir=log_dir, max_restarts=max_restarts, env=game_env, cwd=cwd)
        env = RemoteVectorEnv(hub, connect_timeout=connect_timeout, progress=progress, on_lost=on_lost,
                              explain=launcher.explain if launcher is not None else None)
    except BaseException:
        if launcher is not None:
            launcher.close()
        if owned_hub:
            hub.close()
        raise
    # On close: no more restarts, then the hub says 1000 (games exit on their own), then what is
    # left of the games' process groups is killed.
    if launcher is not None:
        env._owned.append(launcher.stop_restarting)
    if owned_hub:
        env._owned.append(hub.close)
    if launcher is not None:
        env._owned.append(functools.partial(launcher.close, exit_timeout=launcher.kill_timeout))
    env.launcher = launcher
    return env
