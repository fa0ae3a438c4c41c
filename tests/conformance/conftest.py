"""Fixtures of the env conformance suite: the game-side implementations under test, a started
Hub (the real trainer package), and a raw ``websockets`` trainer that sends what a test scripts.

An implementation is a command that follows the contract at the top of ``spaces_game.c``: ``c``,
the C game through the C ABI (``WSB_CONFORMANCE_C``); ``cpp``, spaces_game.cpp on the C++ wrapper
(``WSB_CONFORMANCE_CPP``); ``csharp``, spaces_game.cs on the Unity package's WsEnv under Mono
(``WSB_CONFORMANCE_CSHARP``); all built by ``make test-conformance``. Bindings add theirs to
``IMPLEMENTATIONS``, and to ``FEATURES`` what their game implements beyond the core.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

import wsbridge

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "servers"))
from process import Process  # noqa: E402
from lobby_process import LobbyProcess  # noqa: E402

#: The tokens of the ``lobby`` fixture: games' (also the hubs' own), and hubs' at the lobby.
LOBBY_TOKEN, LOBBY_HUB_TOKEN = "s3cret", "hub-s3cret"

#: name -> the command that starts that implementation's conformance game (arguments follow).
IMPLEMENTATIONS: dict[str, list[str]] = {
    "c": [os.environ.get("WSB_CONFORMANCE_C", str(ROOT / "build" / "tests" / "conformance_game"))],
    "cpp": [os.environ.get("WSB_CONFORMANCE_CPP", str(ROOT / "build" / "cpp" / "tests" / "conformance_game"))],
    # The C# game (spaces_game.cs) on the Unity package's WsEnv, under Mono (built by make test-conformance).
    "csharp": ["mono", "--debug",
               os.environ.get("WSB_CONFORMANCE_CSHARP", str(ROOT / "build" / "csharp" / "SpacesGame.exe"))],
}

#: What each implementation's game implements beyond the protocol's core, for the tests marked
#: ``@pytest.mark.needs(...)``: ``same_step`` (``--same-step``: partial resets, same-step
#: autoreset), ``composite`` (``--obs dict|tuple``), ``settings`` (prints engine settings). Such
#: a test runs against exactly the implementations listed here for it.
FEATURES: dict[str, set[str]] = {
    "c": {"same_step", "composite", "settings"},
    "cpp": {"same_step", "composite", "settings"},
    "csharp": {"same_step", "composite", "settings"},
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(*features): implementations whose game has FEATURES")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leaves out (pytest reports them as deselected) the runs of a ``needs`` test against an
    implementation whose game lacks the feature."""
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("needs")
        callspec = getattr(item, "callspec", None)
        implementation = callspec.params.get("launch") if callspec is not None else None
        if marker is not None and implementation is not None:
            need = set(marker.args)
            unknown = need - set().union(*FEATURES.values())
            assert not unknown, f"{item.name}: unknown features {unknown}"
            if not need <= FEATURES[implementation]:
                drop.append(item)
                continue
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


class Game(Process):
    """A conformance game process; ``expect(start)`` waits for a stdout line starting with ``start``."""

    def __init__(self, command: list[str], *args: str) -> None:
        if not Path(command[-1]).exists() and not Path(command[0]).exists():
            raise RuntimeError(f"{command} is missing: build it with `make test-conformance`")
        super().__init__([*command, *args])

    def expect(self, text: str, timeout: float = 30) -> str:
        return self.expect_start(text, timeout)


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def launch(request: pytest.FixtureRequest) -> Iterator[Callable[..., Game]]:
    """``launch(url, *args) -> Game`` for the implementation under test; killed at the end."""
    games: list[Game] = []

    def start(*args: str) -> Game:
        games.append(Game(IMPLEMENTATIONS[request.param], *args))
        return games[-1]

    yield start
    for g in games:
        g.stop()


@pytest.fixture
def hub_factory() -> Iterator[Callable[..., wsbridge.Hub]]:
    """``hub_factory(**kwargs) -> Hub`` on a free port; closed at the end of the test."""
    hubs: list[wsbridge.Hub] = []

    def start(**kwargs: Any) -> wsbridge.Hub:
        hubs.append(wsbridge.Hub(**{"port": 0, **kwargs}).start())
        return hubs[-1]

    yield start
    for h in hubs:
        h.close()


@pytest.fixture
def lobby() -> Iterator[LobbyProcess]:
    """A real lobby process (``python -m wsbridge.lobby``) with the tokens above."""
    lobby = LobbyProcess(token=LOBBY_TOKEN, hub_token=LOBBY_HUB_TOKEN)
    yield lobby
    lobby.close()


@dataclass
class Connection:
    """What the raw trainer saw of one game connection."""

    path: str
    hello: dict[str, Any] | None = None
    replies: list[bytes | str] = field(default_factory=list)
    #: The game's close frame, once the connection ended (None: it ended without one).
    close_code: int | None = None
    close_reason: str | None = None


#: A raw trainer's script for one connection: it may send, receive and close ``ws``.
Script = Callable[[ServerConnection, Connection], Awaitable[None]]


class RawTrainer:
    """A plain ``websockets`` server on its own thread: receives each connection's hello, then
    runs ``scripts[n]`` for the n-th connection (the last one for later connections). Every
    connection that ended is put on ``ended``, so a test waits on it without sleeping."""

    def __init__(self, scripts: list[Script]) -> None:
        self.scripts = scripts
        self.connections: list[Connection] = []
        self.ended: queue.Queue[Connection] = queue.Queue()
        started: queue.Queue[int] = queue.Queue()
        self.loop = asyncio.new_event_loop()
        self.stop_event: asyncio.Event | None = None
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(started),), daemon=True)
        self.thread.start()
        self.port = started.get(timeout=10)

    async def _main(self, started: queue.Queue[int]) -> None:
        self.stop_event = asyncio.Event()
        async with serve(self._handle, "127.0.0.1", 0, compression=None) as server:
            started.put(server.sockets[0].getsockname()[1])
            await self.stop_event.wait()

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        conn = Connection(ws.request.path)
        script = self.scripts[min(len(self.connections), len(self.scripts) - 1)]
        self.connections.append(conn)
        try:
            conn.hello = json.loads(await ws.recv())
            await script(ws, conn)
            await ws.wait_closed()
        except ConnectionClosed:
            pass
        finally:
            rcvd = ws.protocol.close_rcvd
            if rcvd is not None:
                conn.close_code, conn.close_reason = rcvd.code, rcvd.reason
            self.ended.put(conn)

    def url(self, path: str = "/env/0") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def next_ended(self, timeout: float = 30) -> Connection:
        return self.ended.get(timeout=timeout)

    def close(self) -> None:
        if self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(timeout=10)


@pytest.fixture
def raw_trainer() -> Iterator[Callable[..., RawTrainer]]:
    """``raw_trainer(script, ...) -> RawTrainer``; closed at the end of the test."""
    made: list[RawTrainer] = []

    def start(*scripts: Script) -> RawTrainer:
        made.append(RawTrainer(list(scripts)))
        return made[-1]

    yield start
    for t in made:
        t.close()
