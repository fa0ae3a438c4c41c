"""Fixtures: a started Hub, real cartpole game processes (examples/game, C, through libwsbridge),
and a TCP proxy that can cut connections like a network failure.

The game executable comes from ``WSB_GAME`` (set by ``make test-python``) or
``build/tests/cartpole``; if it is missing the tests fail with the command that builds it.
"""

from __future__ import annotations

import asyncio
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

import wsbridge

ROOT = Path(__file__).resolve().parents[2]
GAME = Path(os.environ.get("WSB_GAME", ROOT / "build" / "tests" / "cartpole"))
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests" / "servers"))
from process import Process  # noqa: E402  a child process whose output lines a test waits on

T = TypeVar("T")


def made_and_ended(make: Callable[..., T], end: Callable[[T], None]) -> Iterator[Callable[..., T]]:
    """A fixture's body: yields ``make``, and ends what it made once the test is over."""
    made: list[T] = []

    def factory(*args: Any, **kwargs: Any) -> T:
        made.append(make(*args, **kwargs))
        return made[-1]

    yield factory
    for thing in made:
        end(thing)


class Game(Process):
    """A cartpole game process; ``expect(text)`` waits for a stdout line containing ``text``."""

    def __init__(self, url: str, slot: str | int, *args: str) -> None:
        if not GAME.exists():
            raise RuntimeError(f"{GAME} is missing: build it with `make {GAME.relative_to(ROOT)}` "
                               "(or run `make test-python`)")
        super().__init__([str(GAME), url, str(slot), *args])


@pytest.fixture
def launch() -> Iterator[Callable[..., Game]]:
    """``launch(url, slot, *args) -> Game``; every game is killed at the end of the test."""
    yield from made_and_ended(Game, Game.stop)


@pytest.fixture
def hub_factory() -> Iterator[Callable[..., wsbridge.Hub]]:
    """``hub_factory(**kwargs) -> Hub``, started on a free port; closed at the end of the test."""
    yield from made_and_ended(lambda **kwargs: wsbridge.Hub(**{"port": 0, **kwargs}).start(), wsbridge.Hub.close)


class Proxy:
    """A TCP forwarder to 127.0.0.1:``target`` on its own event loop thread. ``cut()`` aborts
    every connection through it (an RST on both sides, like a network failure); new connections
    are forwarded as before."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.loop = asyncio.new_event_loop()
        self.transports: set[asyncio.BaseTransport] = set()
        self.connections = 0
        started: queue.Queue[int] = queue.Queue()
        self.thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self.thread.start()
        self.port = started.get(timeout=10)

    def _run(self, started: queue.Queue[int]) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._pipe, "127.0.0.1", 0))
        started.put(server.sockets[0].getsockname()[1])
        self.loop.run_forever()
        server.close()
        for t in self.transports:
            t.abort()
        for task in asyncio.all_tasks(self.loop):
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*asyncio.all_tasks(self.loop), return_exceptions=True))
        self.loop.run_until_complete(server.wait_closed())
        self.loop.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self.transports |= {writer.transport, up_writer.transport}

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
        self.transports -= {writer.transport, up_writer.transport}

    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def cut(self) -> None:
        done: queue.Queue[None] = queue.Queue()

        def abort() -> None:
            for t in list(self.transports):
                t.abort()
            done.put(None)

        self.loop.call_soon_threadsafe(abort)
        done.get(timeout=10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture
def proxy_factory() -> Iterator[Callable[..., Proxy]]:
    """``proxy_factory(target_port) -> Proxy``; closed at the end of the test."""
    yield from made_and_ended(Proxy, Proxy.close)
