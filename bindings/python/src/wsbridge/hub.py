"""The hub: one WebSocket server, one port, a slot per game (``/env/0``, ``/env/1``, ...).

The server's asyncio event loop runs on its own thread, so keepalive pings are answered and
games can (re)connect while the training thread is busy computing. The training thread talks
to the loop through :meth:`Hub.exchange` and :meth:`Hub.wait_for_games`, which block.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from .batch import Batch
from .errors import GameLostError, ProtocolError, ReplyTimeoutError
from .gate import Gate, RefusalLog, check_file_limit
from .registration import Registration
from .protocol import CloseCode, GameInfo, HelloLimits, parse_hello

__all__ = ["Explain", "Explanation", "Hub", "Request"]

logger = logging.getLogger("wsbridge")

class _Default:
    """The type of :data:`DEFAULT`."""


@dataclass(frozen=True)
class Explanation:
    """What is known about some games that did not connect or were lost (a launcher's exit
    statuses and log lines), for error messages."""

    text: str
    #: Every one of those games has failed for good: waiting for them is pointless.
    failed: bool = False


#: ``explain(slot_ids)``: what is known about the games at those slots.
Explain = Callable[[list[str]], Explanation]

#: "The hub's own setting" for per-call overrides.
DEFAULT = _Default()

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
        # While environments use the slot: the game they were built with (reconnections must
        # declare the same agents and spaces), and how many environments hold it.
        self.pinned: GameInfo | None = None
        self.pins = 0


class Hub:
    """Serves many games on one port and routes ``{path_prefix}{id}`` to slot ``id``.

    Args:
        games: the number of slots (ids ``"0"`` ... ``"n-1"``) or the slot ids themselves.
        host: the address to bind; keep ``127.0.0.1`` unless games run on other machines
            (then set a ``token``).
        port: the port; 0 picks a free one (read it back from :attr:`port`).
        path_prefix: slots are served at ``path_prefix + id``.
        token: if set, games must send ``Authorization: Bearer <token>`` or ``?token=<token>``
            (exactly one of them); others get HTTP 401 before the upgrade.
        max_size: the largest message accepted from a game, in bytes (larger closes with 1009).
        ping_interval, ping_timeout: keepalive, in seconds (``None`` disables).
        hello_timeout: seconds a new connection has to send its ``hello``.
        reply_timeout: seconds a game has to answer ``reset`` or ``step`` (``None``: no limit).
        reconnect_timeout: seconds to wait for a game that dropped during a request to come
            back before :class:`GameLostError` (``None``: no limit).

    Limits on what a game or anyone reaching the port may cost the trainer (``docs/security.md``):

    Args:
        max_hello_size: the largest ``hello``, in bytes (larger closes with 1009).
        max_agents: the most agents one game may declare.
        max_space_dims, max_space_elements: the most dimensions of a space's shape, and the most
            numbers in one sample of a space (a box's elements).
        max_observation_bytes: the most bytes of one game's observations (agents x the
            observation space's size).
        max_connections: the most connections open at once (default: the slots plus 128);
            extra ones get HTTP 503 and are closed.
        max_handshakes: the most connections at once that have not passed the token check
            (half-open, slow or still sending their request); extra ones get HTTP 503.
        handshake_timeout: seconds a connection has to complete its HTTP upgrade.

    Slot assignment through a lobby (``docs/protocol.md``, *Lobby*; :mod:`wsbridge.lobby`):

    Args:
        lobby: the lobby's URL for hubs (``ws://lobby:9000/lobby/hubs``); the hub registers its
            free slots there and keeps the lobby up to date, reconnecting with backoff (50 ms
            doubling to 2 s) for as long as the hub runs. ``None``: no lobby.
        lobby_token: the lobby's hub token (its ``hub_token``), sent as ``Authorization: Bearer``.
        advertise: the public base URL of this hub that games can reach (``wss://edge/hub/2``);
            a slot's URL is ``advertise + path_prefix + id``. Default ``ws://{host}:{port}``.
        hub_id: this hub's id at the lobby (default: a random uuid4 hex).
        env_name: the env this hub's slots are for; the lobby assigns them to games asking for
            that name (or for any: ``""``). ``""``: any game.

    A slot is offered to the lobby while no connection holds it, unless it is withheld for a
    game told its URL (:meth:`withhold`; a :class:`~wsbridge.Launcher` does that for the games
    it starts). The lobby's failures never touch the games connected to the hub.

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
        max_hello_size: int = 64 * 1024,
        max_agents: int = 4096,
        max_space_dims: int = 16,
        max_space_elements: int = 2**20,
        max_observation_bytes: int = 16 * 2**20,
        max_connections: int | None = None,
        max_handshakes: int = 64,
        handshake_timeout: float = 10.0,
        lobby: str | None = None,
        lobby_token: str | None = None,
        advertise: str | None = None,
        hub_id: str | None = None,
        env_name: str = "",
    ) -> None:
        ids = [str(i) for i in range(games)] if isinstance(games, int) else [str(g) for g in games]
        if not ids or len(set(ids)) != len(ids):
            raise ValueError(f"games must be a positive count or distinct ids, not {games!r}")
        if not path_prefix.startswith("/"):
            raise ValueError(f"path_prefix must start with '/', not {path_prefix!r}")
        if max_connections is None:
            max_connections = len(ids) + 128
        limits = {"max_size": max_size, "max_hello_size": max_hello_size, "max_agents": max_agents,
                  "max_space_dims": max_space_dims, "max_space_elements": max_space_elements,
                  "max_observation_bytes": max_observation_bytes, "max_connections": max_connections,
                  "max_handshakes": max_handshakes}
        for name, value in limits.items():
            if type(value) is not int or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        if not handshake_timeout > 0:
            raise ValueError(f"handshake_timeout must be a positive number of seconds, not {handshake_timeout!r}")
        for name, url in {"lobby": lobby, "advertise": advertise}.items():
            if url is not None and not url.startswith(("ws://", "wss://")):
                raise ValueError(f"{name} must be a ws:// or wss:// URL, not {url!r}")
        for name, text in {"hub_id": hub_id, "env_name": env_name}.items():
            if text is not None and (len(text) > 256 or not text.isprintable()):
                raise ValueError(f"{name} must be at most 256 printable characters, not {text!r}")
        if hub_id == "":
            raise ValueError("hub_id must not be empty")
        self.host, self.path_prefix, self.slots = host, path_prefix, tuple(ids)
        #: The lobby this hub registers with (``None``: none), and its id and env name there.
        self.lobby, self.hub_id, self.env_name = lobby, hub_id or uuid.uuid4().hex, env_name
        self._lobby_token, self._advertise = lobby_token, advertise.rstrip("/") if advertise else None
        self._registration: Registration | None = None
        self._withheld: set[str] = set()  # slots kept for games told their URL: not offered to the lobby
        self._token = token  # handed to the games a Launcher starts (in their environment)
        self._requested_port = port
        self._max_size = max_size
        self._max_hello_size = min(max_hello_size, max_size)
        self._hello_limits = HelloLimits(max_agents=max_agents, max_space_dims=max_space_dims,
                                         max_space_elements=max_space_elements,
                                         max_observation_bytes=max_observation_bytes)
        self.handshake_timeout = handshake_timeout
        self._refused = RefusalLog(logger)
        self._gate = Gate(token=token, max_connections=max_connections, max_handshakes=max_handshakes,
                          refused=self._refused)
        self._tasks: set[asyncio.Future[None]] = set()  # closes started by _drop
        # Hellos are parsed one at a time on this thread, off the event loop.
        self._parser: concurrent.futures.ThreadPoolExecutor | None = None
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
        check_file_limit(self._gate.max_connections, logger)
        started: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._parser = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="wsbridge-hello")
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(started),),
                                        name="wsbridge-hub", daemon=True)
        self._thread.start()
        try:
            self._port = started.result()
        except BaseException:
            self._thread.join()
            self._thread = None
            self._parser.shutdown()
            raise
        logger.info("hub listening on %s (%d slots)", self.url(), len(self.slots))
        if self.lobby is not None:
            logger.info("hub %s offers its free slots to the lobby at %s as %s%s...", self.hub_id, self.lobby,
                        self.advertise, self.path_prefix)
            if self._advertise is None and self.host in ("0.0.0.0", "::", ""):
                logger.warning("hub %s advertises %s to the lobby, which games cannot reach: set advertise to the "
                               "URL games reach this hub at", self.hub_id, self.advertise)
        return self

    def close(self) -> None:
        """Closes every game connection with 1000 (training finished) and stops the server."""
        if self._thread is None or self._loop is None or self._stop is None:
            return
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()
        self._thread = None
        if self._parser is not None:
            self._parser.shutdown()

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

    @property
    def advertise(self) -> str:
        """The base URL games reach this hub at (``advertise``, default ``ws://host:port``)."""
        return self._advertise if self._advertise is not None else self.url()

    def slot_url(self, slot: str | int) -> str:
        """The URL the lobby hands out for ``slot``: ``advertise + path_prefix + id``."""
        return f"{self.advertise}{self.path_prefix}{self._slot(slot).id}"

    @property
    def lobby_registered(self) -> bool:
        """Whether the lobby holds this hub's current free slots (``False`` without a lobby)."""
        return self._registration is not None and self._registration.registered

    def withhold(self, slots: Iterable[str | int], withheld: bool = True) -> None:
        """Stops offering ``slots`` to the lobby (kept for games told their URL), or with
        ``withheld=False`` offers them again. Games may connect to any slot either way."""
        ids = {self._slot(s).id for s in slots}
        if withheld:
            self._withheld |= ids
        else:
            self._withheld -= ids
        if self._thread is not None and self._loop is not None and self._registration is not None:
            self._loop.call_soon_threadsafe(self._registration.changed)

    def _lobby_text(self) -> str:
        """For error messages: whether the hub is registered with its lobby."""
        if self.lobby is None:
            return ""
        state = "registered" if self.lobby_registered else "NOT registered now (see the log)"
        return f"; the hub offers its free slots to the lobby at {self.lobby} as hub {self.hub_id}: {state}"

    def _free_map(self) -> dict[str, str]:
        """The slots to offer the lobby: no connection holds them, not withheld (on the loop)."""
        base = self.advertise + self.path_prefix
        return {s.id: base + s.id for s in self._slots.values() if s.claim is None and s.id not in self._withheld}

    def _slot_changed(self) -> None:
        if self._registration is not None:
            self._registration.changed()

    # ---- games -------------------------------------------------------------------------

    def games(self) -> dict[str, GameInfo]:
        """The games connected now, by slot id."""
        with self._state:
            return dict(self._connected)

    def wait_for_games(self, slots: Sequence[str] | None = None, *, timeout: float | None = None,
                       progress: bool = True, explain: Explain | None = None) -> list[GameInfo]:
        """Blocks until a game has said hello on every slot (all slots by default).

        Shows a progress bar (tqdm, on stderr) while waiting if ``progress`` is true. Raises
        ``TimeoutError`` naming the missing slots if ``timeout`` seconds pass first.
        ``explain(missing_slot_ids)`` may add to that message (a launcher's game logs); it is
        also asked on every wake-up (see :meth:`notify`): if every missing game has failed for
        good, the wait stops at once with a ``RuntimeError`` of its text.
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
                missing_ids = [s for s in wanted if s not in self._connected]
                known = explain(missing_ids) if explain is not None else Explanation("")
                extra = known.text
                if known.failed:
                    if bar is not None:
                        bar.close()
                    raise RuntimeError(extra)
                if remaining is not None and remaining <= 0:
                    missing = [self.path_prefix + s for s in missing_ids]
                    if bar is not None:
                        bar.close()
                    raise TimeoutError(f"no game connected within {timeout:g} s at {', '.join(missing)}"
                                       + (f"; {extra}" if extra else "") + self._lobby_text())
                self._state.wait(remaining)
            games = [self._connected[s] for s in wanted]
        if bar is not None:
            bar.update(len(wanted) - bar.n)
            bar.close()
        return games

    def notify(self) -> None:
        """Wakes up :meth:`wait_for_games` so that it asks its ``explain`` again (a launcher
        calls it when a game process ends)."""
        with self._state:
            self._state.notify_all()

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
        future = self.send(requests)
        try:
            results = future.result()
        except BaseException:
            future.cancel()
            raise
        answers: list[Answer] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            answers.append(result)
        return answers

    def send(self, requests: Sequence[Request], *, reconnect_timeout: float | None | _Default = DEFAULT
             ) -> concurrent.futures.Future[list[Answer | BaseException]]:
        """Starts :meth:`exchange` and returns at once: the hub's thread sends every request now
        (while the caller computes), and the future's result holds, per request, the answer,
        the new :class:`GameInfo` of a game that reconnected, or the exception that request
        ended with (:class:`GameLostError`, :class:`ReplyTimeoutError`).

        ``reconnect_timeout`` overrides the hub's for these requests (0: a game that is gone
        is lost at once; ``None``: wait for it without limit).
        """
        if self._loop is None or self._thread is None:
            raise RuntimeError("the hub is not started")
        timeout = self.reconnect_timeout if isinstance(reconnect_timeout, _Default) else reconnect_timeout
        future: concurrent.futures.Future[list[Answer | BaseException]] = concurrent.futures.Future()
        # A plain callback on the loop (no task or coroutine to start): it sends at once.
        self._loop.call_soon_threadsafe(self._exchange, list(requests), timeout, future)
        return future

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
            # Until its hello is accepted, a connection may send at most max_hello_size bytes.
            server = await serve(self._handle, self.host, self._requested_port, compression=None,
                                 max_size=self._max_hello_size, ping_interval=self._ping[0],
                                 ping_timeout=self._ping[1], open_timeout=self.handshake_timeout,
                                 process_request=self._gate.process_request,
                                 create_connection=self._gate.connection_class())
        except BaseException as e:
            started.set_exception(e)
            return
        port = server.sockets[0].getsockname()[1]
        registering: asyncio.Task[None] | None = None
        if self.lobby is not None:
            self._port = port  # the slot URLs need it
            self._registration = Registration(self.lobby, hub_id=self.hub_id, env=self.env_name,
                                              free=self._free_map, token=self._lobby_token, log=logger)
            registering = asyncio.ensure_future(self._registration.run())
        started.set_result(port)
        async with server:
            await self._stop.wait()
            if registering is not None:  # first leave the lobby, so that it stops sending games here
                registering.cancel()
                await asyncio.gather(registering, return_exceptions=True)
            await self._close_games(server)

    async def _close_games(self, server: Server) -> None:
        connections = [s.claim for s in self._slots.values() if s.claim is not None]
        await asyncio.gather(*(c.close(CloseCode.NORMAL, "training finished") for c in connections))
        server.close(close_connections=True)

    async def _handle(self, ws: ServerConnection) -> None:
        # The gate has checked the token: from here on the peer may learn which slots exist.
        path = ws.request.path.partition("?")[0] if ws.request else "?"
        address = "%s:%s" % ws.remote_address[:2]
        slot = self._slots.get(path)
        if slot is None:
            return await self._refuse(ws, CloseCode.UNKNOWN_SLOT, f"no slot at {path}: this hub serves {self._served()}")
        if slot.claim is not None:
            return await self._refuse(ws, CloseCode.SLOT_TAKEN, f"{path} is held by another connection; retry later")
        slot.claim = ws
        self._slot_changed()
        try:
            await self._serve_game(ws, slot, address)
        finally:
            slot.claim = None
            self._slot_changed()
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
        except ConnectionClosed as e:
            if e.sent is not None and e.sent.code == 1009:  # websockets closed it: over max_hello_size
                self._refused("refused a connection from %s: 1009 hello over max_hello_size (%d bytes)",
                              address, self._max_hello_size)
            return
        number = (slot.game.connection if slot.game else 0) + 1
        parse = functools.partial(parse_hello, first, slot=slot.id, path=slot.path, address=address,
                                  connection=number, limits=self._hello_limits)
        try:
            # Off the event loop, so that a large (if bounded) hello never delays other games.
            game = await asyncio.get_running_loop().run_in_executor(self._parser, parse)
            difference = None if slot.pinned is None else slot.pinned.difference(game)
            if difference is not None:
                raise ProtocolError(f"hello: {difference} as this slot's environment expects")
        except ProtocolError as e:
            return await self._refuse(ws, CloseCode.PROTOCOL_VIOLATION, str(e))
        ws.protocol.max_message_size = self._max_size  # answers may now be as large as max_size
        what = f"{game.name or 'game'}, {game.agents} agent{'s' if game.agents > 1 else ''}"
        if number == 1:
            logger.info("game %s connected from %s (%s)", slot.path, address, what)
        else:
            logger.info("game %s reconnected from %s (connection #%d, %s)", slot.path, address, number, what)
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
        self._refused("refused a connection from %s:%s: %d %s", *ws.remote_address[:2], code, reason)
        await ws.close(code, _cut(reason))

    async def _kick(self, slot: _Slot, code: int, reason: str) -> None:
        if slot.claim is not None:
            await slot.claim.close(code, _cut(reason))

    def _drop(self, slot: str, connection: int, code: int, reason: str) -> None:
        """Starts closing connection number ``connection`` of ``slot`` (if it is still the one
        there) without waiting for the game to answer the close."""
        if self._loop is None:
            raise RuntimeError("the hub is not started")
        target = self._by_id[slot]

        def close() -> None:
            ws, game = target.connection, target.game
            if ws is not None and game is not None and game.connection == connection:
                self._tasks.add(task := asyncio.ensure_future(ws.close(code, _cut(reason))))
                task.add_done_callback(self._tasks.discard)

        self._loop.call_soon_threadsafe(close)

    def _pin(self, games: Sequence[GameInfo]) -> None:
        """For an environment built with ``games``: until :meth:`_unpin`, a game reconnecting
        to their slots must declare the same agents and spaces (else 4400 naming the key)."""
        self._call(self._pin_on_loop(games))

    def _unpin(self, games: Sequence[GameInfo]) -> None:
        """The environment built with ``games`` is closed: their slots may take other games."""
        if self._thread is None:
            return  # the hub is closed: no slot to free
        self._call(self._unpin_on_loop(games))

    async def _pin_on_loop(self, games: Sequence[GameInfo]) -> None:
        for game in games:
            slot = self._by_id[game.slot]
            slot.pinned = slot.pinned or game
            slot.pins += 1
            difference = None if slot.game is None else slot.pinned.difference(slot.game)
            if difference is not None:  # it reconnected as another game while the env was built
                await self._kick(slot, CloseCode.PROTOCOL_VIOLATION, f"hello: {difference} as this slot's "
                                 "environment expects")

    async def _unpin_on_loop(self, games: Sequence[GameInfo]) -> None:
        for game in games:
            slot = self._by_id[game.slot]
            slot.pins -= 1
            if slot.pins == 0:
                slot.pinned = None

    def _exchange(self, requests: list[Request], reconnect_timeout: float | None,
                  future: concurrent.futures.Future[list[Answer | BaseException]]) -> None:
        """Sends every request and sets ``future`` to every request's answer (or exception), all
        games in parallel; runs on the loop. A game that is connected on the request's
        connection and idle gets it on the batched path (wsbridge/batch.py: no task, coroutine
        or timeout context per game); the others, and any game that leaves that path, go
        through :meth:`_request` / :meth:`_answer` as one task each. Cancelling ``future``
        cancels what is still waited for."""
        if future.cancelled():
            return
        try:
            self._start_exchange(requests, reconnect_timeout, future)
        except BaseException as e:  # a bug: the caller gets it instead of waiting forever
            if future.set_running_or_notify_cancel():
                future.set_exception(e)
            if not isinstance(e, Exception):
                raise

    def _start_exchange(self, requests: list[Request], reconnect_timeout: float | None,
                        future: concurrent.futures.Future[list[Answer | BaseException]]) -> None:
        loop = asyncio.get_running_loop()
        deadline = None if self.reply_timeout is None else loop.time() + self.reply_timeout
        tasks: list[asyncio.Task[None]] = []

        def per_request(index: int, answer: Any) -> None:
            tasks.append(loop.create_task(self._fill(batch, index, answer)))

        def answer_of(index: int, ws: ServerConnection) -> None:  # sent on the batched path, then left it
            request = requests[index]
            per_request(index, self._answer(ws, self._by_id[request.slot], request.connection, deadline,
                                            reconnect_timeout))

        batch = Batch(len(requests), answer_of)
        for i, request in enumerate(requests):
            slot = self._by_id[request.slot]
            ws = slot.connection
            current = ws is not None and slot.game is not None and slot.game.connection == request.connection
            if not (current and ws is not None and batch.send(i, ws, request.payload)):
                per_request(i, self._request(request, reconnect_timeout))

        def expire() -> None:  # the games still waited for on the batched path time out as in _answer
            for i, ws in batch.detach():
                answer_of(i, ws)

        timer = None if deadline is None else loop.call_at(deadline, expire)

        def finish() -> None:  # on the loop: all answered, or the caller cancelled
            if timer is not None:
                timer.cancel()
            batch.detach()
            for task in tasks:
                task.cancel()
            if future.set_running_or_notify_cancel():  # (False: the caller cancelled it)
                future.set_result(batch.results)

        def cancelled(f: concurrent.futures.Future[Any]) -> None:  # on the caller's thread
            if f.cancelled():
                try:
                    loop.call_soon_threadsafe(batch.cancel)
                except RuntimeError:  # the loop is closed: nothing is waited for any more
                    pass

        batch.when_done(finish)
        future.add_done_callback(cancelled)

    @staticmethod
    async def _fill(batch: Batch, index: int, answer: Any) -> None:
        try:
            result = await answer
        except Exception as e:  # as gather(return_exceptions=True): the caller sorts them out
            result = e
        batch.fill(index, result)

    async def _request(self, request: Request, reconnect_timeout: float | None) -> Answer:
        slot = self._by_id[request.slot]
        ws = slot.connection
        if ws is None or slot.game is None or slot.game.connection != request.connection:
            return await self._await_reconnect(slot, request.connection, reconnect_timeout)
        try:
            await ws.send(request.payload)
        except ConnectionClosed:
            return await self._await_reconnect(slot, request.connection, reconnect_timeout)
        deadline = None if self.reply_timeout is None else asyncio.get_running_loop().time() + self.reply_timeout
        return await self._answer(ws, slot, request.connection, deadline, reconnect_timeout)

    async def _answer(self, ws: ServerConnection, slot: _Slot, connection: int, deadline: float | None,
                      reconnect_timeout: float | None) -> Answer:
        """The answer on ``ws`` to a request sent on it; if it does not come by ``deadline`` (loop
        time), the game is closed with 4408 and :class:`ReplyTimeoutError` raised."""
        try:
            try:
                async with asyncio.timeout_at(deadline):
                    return await ws.recv()
            except TimeoutError:
                reason = f"no answer within {self.reply_timeout:g} s"
                await ws.close(CloseCode.REPLY_TIMEOUT, reason)
                raise ReplyTimeoutError(f"{slot.path}: {reason}") from None
        except ConnectionClosed:
            return await self._await_reconnect(slot, connection, reconnect_timeout)

    async def _await_reconnect(self, slot: _Slot, connection: int, timeout: float | None) -> GameInfo:
        assert self._changed is not None

        def back() -> bool:
            return slot.connection is not None and slot.game is not None and slot.game.connection > connection

        if not back() and timeout != 0:
            logger.info("waiting up to %s s for the game at %s to reconnect", timeout, slot.path)
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(back)
        except TimeoutError:
            raise GameLostError(f"the game at {slot.path} disconnected and did not come back within "
                                f"{timeout:g} s") from None
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
