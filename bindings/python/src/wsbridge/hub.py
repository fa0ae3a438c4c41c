"""The hub: one WebSocket server, one port, a slot per game (``/env/0``, ``/env/1``, ...).

The server's asyncio event loop runs on its own thread, so keepalive pings are answered and
games can (re)connect while the training thread is busy computing. The training thread talks
to the loop through :meth:`Hub.exchange` and :meth:`Hub.wait_for_games`, which block.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hmac
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from .errors import GameLostError, ProtocolError, ReplyTimeoutError
from .protocol import CloseCode, GameInfo, parse_hello

__all__ = ["Hub", "Request"]

logger = logging.getLogger("wsbridge")

#: What :meth:`Hub.exchange` returns per request: the game's answer, or the new
#: :class:`GameInfo` of a game that reconnected (the request was not answered).
Answer = bytes | str | GameInfo


@dataclass(frozen=True)
class Request:
    """One message for :meth:`Hub.exchange`: send ``payload`` to ``slot`` on its ``connection``."""

    slot: str
    #: The :attr:`GameInfo.connection` the caller is talking to. If the game has reconnected
    #: since, the payload is not sent and the new :class:`GameInfo` is returned instead.
    connection: int
    payload: bytes | str


class _Slot:
    """A slot's state; touched only on the hub's event loop thread."""

    def __init__(self, slot: str, path: str) -> None:
        self.id, self.path = slot, path
        self.claim: ServerConnection | None = None  # the connection holding the slot
        self.connection: ServerConnection | None = None  # the same, once its hello was accepted
        self.game: GameInfo | None = None  # from the latest accepted hello
        self.first: GameInfo | None = None  # from the first accepted hello


class Hub:
    """Serves many games on one port and routes ``{path_prefix}{id}`` to slot ``id``.

    Args:
        games: the number of slots (ids ``"0"`` ... ``"n-1"``) or the slot ids themselves.
        host: the address to bind; keep ``127.0.0.1`` unless games run on other machines
            (then set a ``token``).
        port: the port; 0 picks a free one (read it back from :attr:`port`).
        path_prefix: slots are served at ``path_prefix + id``.
        token: if set, games must send ``Authorization: Bearer <token>`` or ``?token=<token>``.
        max_size: the largest message accepted from a game, in bytes (larger closes with 1009).
        ping_interval, ping_timeout: keepalive, in seconds (``None`` disables).
        hello_timeout: seconds a new connection has to send its ``hello``.
        reply_timeout: seconds a game has to answer ``reset`` or ``step`` (``None``: no limit).
        reconnect_timeout: seconds to wait for a game that dropped during a request to come
            back before :class:`GameLostError` (``None``: no limit).

    Use it as a context manager, or call :meth:`start` and :meth:`close`::

        with Hub(games=8, port=8001) as hub:
            hub.wait_for_games()
            env = RemoteVectorEnv(hub)
    """

    def __init__(
        self,
        games: int | Iterable[str] = 1,
        *,
        host: str = "127.0.0.1",
        port: int = 8001,
        path_prefix: str = "/env/",
        token: str | None = None,
        max_size: int = 16 * 2**20,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        hello_timeout: float = 10.0,
        reply_timeout: float | None = 60.0,
        reconnect_timeout: float | None = 60.0,
    ) -> None:
        ids = [str(i) for i in range(games)] if isinstance(games, int) else [str(g) for g in games]
        if not ids or len(set(ids)) != len(ids):
            raise ValueError(f"games must be a positive count or distinct ids, not {games!r}")
        if not path_prefix.startswith("/"):
            raise ValueError(f"path_prefix must start with '/', not {path_prefix!r}")
        self.host, self.path_prefix, self.slots = host, path_prefix, tuple(ids)
        self._requested_port = port
        self._token = token
        self._max_size = max_size
        self._ping = (ping_interval, ping_timeout)
        self.hello_timeout, self.reply_timeout, self.reconnect_timeout = hello_timeout, reply_timeout, reconnect_timeout
        self._slots = {path_prefix + i: _Slot(i, path_prefix + i) for i in ids}
        self._by_id = {s.id: s for s in self._slots.values()}
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._changed: asyncio.Condition | None = None
        self._thread: threading.Thread | None = None
        # Connected games as seen from other threads, guarded by a condition that is notified on
        # every connect and disconnect (wait_for_games waits on it).
        self._state = threading.Condition()
        self._connected: dict[str, GameInfo] = {}

    # ---- life cycle --------------------------------------------------------------------

    def start(self) -> Hub:
        """Binds the port and starts the event loop thread; raises ``OSError`` if binding fails."""
        if self._thread is not None:
            raise RuntimeError("the hub is already started")
        started: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(started),),
                                        name="wsbridge-hub", daemon=True)
        self._thread.start()
        try:
            self._port = started.result()
        except BaseException:
            self._thread.join()
            self._thread = None
            raise
        logger.info("hub listening on %s (%d slots)", self.url(), len(self.slots))
        return self

    def close(self) -> None:
        """Closes every game connection with 1000 (training finished) and stops the server."""
        if self._thread is None or self._loop is None or self._stop is None:
            return
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()
        self._thread = None

    def __enter__(self) -> Hub:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    @property
    def port(self) -> int:
        """The port the hub listens on."""
        if self._port is None:
            raise RuntimeError("the hub is not started")
        return self._port

    def url(self, slot: str | int | None = None) -> str:
        """``ws://host:port`` or, with a slot id, the URL a game uses for that slot."""
        base = f"ws://{self.host}:{self.port}"
        return base if slot is None else f"{base}{self.path_prefix}{slot}"

    # ---- games -------------------------------------------------------------------------

    def games(self) -> dict[str, GameInfo]:
        """The games connected now, by slot id."""
        with self._state:
            return dict(self._connected)

    def wait_for_games(self, slots: Sequence[str] | None = None, *, timeout: float | None = None,
                       progress: bool = True) -> list[GameInfo]:
        """Blocks until a game has said hello on every slot (all slots by default).

        Shows a progress bar (tqdm, on stderr) while waiting if ``progress`` is true. Raises
        ``TimeoutError`` naming the missing slots if ``timeout`` seconds pass first.
        """
        wanted = [self._slot(s).id for s in (self.slots if slots is None else slots)]
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = None
        with self._state:
            while True:
                done = sum(s in self._connected for s in wanted)
                if done == len(wanted):
                    break
                if bar is None and progress:
                    from tqdm import tqdm

                    bar = tqdm(total=len(wanted), desc=f"waiting for games on {self.url()}", unit="game")
                if bar is not None:
                    bar.update(done - bar.n)
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    missing = [self.path_prefix + s for s in wanted if s not in self._connected]
                    if bar is not None:
                        bar.close()
                    raise TimeoutError(f"no game connected within {timeout} s at {', '.join(missing)}")
                self._state.wait(remaining)
            games = [self._connected[s] for s in wanted]
        if bar is not None:
            bar.update(len(wanted) - bar.n)
            bar.close()
        return games

    def wait_for_connection(self, slot: str | int, *, newer_than: int = 0, timeout: float | None = None) -> GameInfo:
        """Blocks until the game at ``slot`` is connected with a connection number above
        ``newer_than`` (pass a :attr:`GameInfo.connection` to wait for a reconnection).

        Raises ``TimeoutError`` if ``timeout`` seconds pass first.
        """
        slot = self._slot(slot).id

        def ready() -> bool:
            game = self._connected.get(slot)
            return game is not None and game.connection > newer_than

        with self._state:
            if not self._state.wait_for(ready, timeout):
                raise TimeoutError(f"no connection newer than #{newer_than} at {self.path_prefix}{slot} "
                                   f"within {timeout} s")
            return self._connected[slot]

    def kick(self, slot: str, code: int = CloseCode.GOING_AWAY, reason: str = "closed by the trainer") -> None:
        """Closes a game's connection with ``code`` and ``reason`` (the slot stays open)."""
        self._call(self._kick(self._slot(slot), code, reason))

    def exchange(self, requests: Sequence[Request]) -> list[Answer]:
        """Sends every request and waits for every answer, all games in parallel.

        Returns, per request, the game's answer, or the new :class:`GameInfo` if the game
        reconnected since ``request.connection`` (then the request was not answered: the
        caller decides what to resend). Raises :class:`GameLostError` if a game dropped and did
        not come back within ``reconnect_timeout``, :class:`ReplyTimeoutError` if a connected
        game did not answer within ``reply_timeout``. Every request is finished (answered or
        failed) before this returns or raises.
        """
        answers: list[Answer] = []
        for result in self._call(self._exchange(requests)):
            if isinstance(result, BaseException):
                raise result
            answers.append(result)
        return answers

    def _slot(self, slot: str | int) -> _Slot:
        try:
            return self._by_id[str(slot)]
        except KeyError:
            raise KeyError(f"no slot {str(slot)!r} (slots: {', '.join(self.slots)})") from None

    # ---- event loop side ---------------------------------------------------------------

    def _call(self, coro: Any) -> Any:
        """Runs ``coro`` on the event loop and waits for its result."""
        if self._loop is None or self._thread is None:
            raise RuntimeError("the hub is not started")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    async def _main(self, started: concurrent.futures.Future[int]) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop, self._changed = asyncio.Event(), asyncio.Condition()
        try:
            server = await serve(self._handle, self.host, self._requested_port, compression=None,
                                 max_size=self._max_size, ping_interval=self._ping[0],
                                 ping_timeout=self._ping[1])
        except BaseException as e:
            started.set_exception(e)
            return
        started.set_result(server.sockets[0].getsockname()[1])
        async with server:
            await self._stop.wait()
            await self._close_games(server)

    async def _close_games(self, server: Server) -> None:
        connections = [s.claim for s in self._slots.values() if s.claim is not None]
        await asyncio.gather(*(c.close(CloseCode.NORMAL, "training finished") for c in connections))
        server.close(close_connections=True)

    async def _handle(self, ws: ServerConnection) -> None:
        path, _, query = ws.request.path.partition("?") if ws.request else ("?", "", "")
        address = "%s:%s" % ws.remote_address[:2]
        slot = self._slots.get(path)
        if slot is None:
            return await self._refuse(ws, CloseCode.UNKNOWN_SLOT, f"no slot at {path}: this hub serves {self._served()}")
        if self._token is not None and not self._token_ok(ws, query):
            return await self._refuse(ws, CloseCode.UNAUTHORIZED, f"missing or wrong token for {path}")
        if slot.claim is not None:
            return await self._refuse(ws, CloseCode.SLOT_TAKEN, f"{path} is held by another connection; retry later")
        slot.claim = ws
        try:
            await self._serve_game(ws, slot, address)
        finally:
            slot.claim = None
            if slot.connection is ws:
                level = logging.INFO if self._stop is not None and self._stop.is_set() else logging.WARNING
                logger.log(level, "game %s disconnected (%s)", path, _close_text(ws))
                await self._set_connection(slot, None)

    def _served(self) -> str:
        paths = list(self._slots)
        return ", ".join(paths) if len(paths) <= 4 else f"{paths[0]} ... {paths[-1]} ({len(paths)} slots)"

    async def _serve_game(self, ws: ServerConnection, slot: _Slot, address: str) -> None:
        try:
            async with asyncio.timeout(self.hello_timeout):
                first = await ws.recv()
        except TimeoutError:
            return await self._refuse(ws, CloseCode.PROTOCOL_VIOLATION, f"no hello within {self.hello_timeout:g} s")
        except ConnectionClosed:
            return
        number = (slot.game.connection if slot.game else 0) + 1
        try:
            game = parse_hello(first, slot=slot.id, path=slot.path, address=address, connection=number)
            if slot.first is not None and not slot.first.same_game(game):
                raise ProtocolError(f"hello differs from the first connection to {slot.path} (agents or spaces)")
        except ProtocolError as e:
            return await self._refuse(ws, CloseCode.PROTOCOL_VIOLATION, str(e))
        what = f"{game.name or 'game'}, {game.agents} agent{'s' if game.agents > 1 else ''}"
        if number == 1:
            logger.info("game %s connected from %s (%s)", slot.path, address, what)
        else:
            logger.info("game %s reconnected from %s (connection #%d, %s)", slot.path, address, number, what)
        slot.first = slot.first or game
        slot.game = game
        await self._set_connection(slot, ws)
        await ws.wait_closed()

    async def _set_connection(self, slot: _Slot, ws: ServerConnection | None) -> None:
        assert self._changed is not None
        async with self._changed:
            slot.connection = ws
            self._changed.notify_all()
        with self._state:
            if ws is None:
                self._connected.pop(slot.id, None)
            elif slot.game is not None:
                self._connected[slot.id] = slot.game
            self._state.notify_all()

    async def _refuse(self, ws: ServerConnection, code: int, reason: str) -> None:
        logger.warning("refused a connection from %s:%s: %d %s", *ws.remote_address[:2], code, reason)
        await ws.close(code, _cut(reason))

    async def _kick(self, slot: _Slot, code: int, reason: str) -> None:
        if slot.claim is not None:
            await slot.claim.close(code, _cut(reason))

    def _token_ok(self, ws: ServerConnection, query: str) -> bool:
        assert self._token is not None and ws.request is not None
        offered = []
        auth = ws.request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            offered.append(auth[len("Bearer "):].strip())
        offered += parse_qs(query).get("token", [])
        return any(hmac.compare_digest(t.encode(), self._token.encode()) for t in offered)

    async def _exchange(self, requests: Sequence[Request]) -> list[Answer | BaseException]:
        return await asyncio.gather(*(self._request(r) for r in requests), return_exceptions=True)

    async def _request(self, request: Request) -> Answer:
        slot = self._by_id[request.slot]
        ws = slot.connection
        if ws is None or slot.game is None or slot.game.connection != request.connection:
            return await self._await_reconnect(slot, request.connection)
        try:
            await ws.send(request.payload)
            try:
                async with asyncio.timeout(self.reply_timeout):
                    return await ws.recv()
            except TimeoutError:
                reason = f"no answer within {self.reply_timeout:g} s"
                await ws.close(CloseCode.REPLY_TIMEOUT, reason)
                raise ReplyTimeoutError(f"{slot.path}: {reason}") from None
        except ConnectionClosed:
            return await self._await_reconnect(slot, request.connection)

    async def _await_reconnect(self, slot: _Slot, connection: int) -> GameInfo:
        assert self._changed is not None

        def back() -> bool:
            return slot.connection is not None and slot.game is not None and slot.game.connection > connection

        if not back():
            logger.info("waiting up to %s s for the game at %s to reconnect", self.reconnect_timeout, slot.path)
        try:
            async with asyncio.timeout(self.reconnect_timeout), self._changed:
                await self._changed.wait_for(back)
        except TimeoutError:
            raise GameLostError(f"the game at {slot.path} disconnected and did not come back within "
                                f"{self.reconnect_timeout:g} s") from None
        assert slot.game is not None
        return slot.game


def _cut(reason: str) -> str:
    """A close reason within the 123 bytes WebSocket allows."""
    data = reason.encode()
    return reason if len(data) <= 123 else data[:120].decode(errors="ignore") + "..."


def _close_text(ws: ServerConnection) -> str:
    code = ws.close_code
    if code is None:
        return "no close frame"
    return f"code {code}" + (f" {ws.close_reason!r}" if ws.close_reason else "")
