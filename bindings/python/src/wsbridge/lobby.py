"""The lobby: games ask one well-known URL for a slot; hubs register their free slots there.

Protocol (``docs/protocol.md``, *Lobby*): a game connects to ``/lobby`` and sends
``{"type": "lobby", "version": 1, "env": "<name>"}``; the lobby answers
``{"type": "assign", "url": "<slot URL>", "hub": "<hub id>"}`` as soon as a matching slot is free
and closes with 1000. A hub connects to ``/lobby/hubs``, sends
``{"type": "hub", "version": 1, "id": ..., "env": ..., "free": {slot id: slot URL}}`` and then its
whole free map, ``{"type": "free", "free": {...}}``, on every change.

The lobby keeps nothing that cannot be rebuilt: the hubs' free maps (forgotten when a hub's
connection drops, sent again in full when it comes back), the games waiting (which reconnect
if the lobby restarts) and its reservations (slots it assigned whose game has not arrived yet,
held ``reserve_timeout`` seconds). Waiting games are served in arrival order: a slot goes to
the earliest waiting game that it matches.

Run it as ``python -m wsbridge.lobby --host H --port P [--token T] [--hub-token HT]``: it logs to
stderr and prints its port on stdout once it listens. In a program, ``async with Lobby(...)``.
The hub's side of the protocol (its registration) is in :mod:`wsbridge.registration`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from .gate import Gate, RefusalLog, check_file_limit
from .protocol import CloseCode
from .registration import HUBS_PATH, LOBBY_PATH, LOBBY_VERSION, close_text

__all__ = ["GameRequest", "Lobby", "LobbyMessageError", "main", "parse_free", "parse_game_message"]

logger = logging.getLogger("wsbridge.lobby")


#: The longest hub id, env name or slot id accepted (printable characters only: they go into logs).
MAX_NAME = 256
#: The longest slot URL accepted.
MAX_URL = 2048
#: The largest message a game may send the lobby (its one ``lobby`` message).
MAX_GAME_MESSAGE = 8 * 1024
#: Close code for "the lobby is at a limit; retry later" (RFC 6455's Try Again Later).
TRY_AGAIN_LATER = 1013


class LobbyMessageError(ValueError):
    """A message that breaks the lobby protocol; the text names the field."""


def _name(message: Mapping[str, Any], key: str) -> str:
    if key not in message:
        raise LobbyMessageError(f"{key!r} is missing")
    value = message[key]
    if not isinstance(value, str):
        raise LobbyMessageError(f"{key!r} must be a string, not {type(value).__name__}")
    if len(value) > MAX_NAME or not value.isprintable():
        raise LobbyMessageError(f"{key!r} must be at most {MAX_NAME} printable characters")
    return value


def _url(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise LobbyMessageError(f"{where} must be a string, not {type(value).__name__}")
    if len(value) > MAX_URL or not value.isprintable() or " " in value:
        raise LobbyMessageError(f"{where} must be a URL of at most {MAX_URL} printable characters")
    if not value.startswith(("ws://", "wss://")):
        raise LobbyMessageError(f"{where} must start with ws:// or wss://")
    return value


def _decode(data: str | bytes, expected: tuple[str, ...]) -> dict[str, Any]:
    """A lobby message as a JSON object whose ``type`` is one of ``expected``."""
    if not isinstance(data, str):
        raise LobbyMessageError("a lobby message is a text frame holding a JSON object, not a binary frame")
    try:
        message = json.loads(data)
    except (ValueError, RecursionError):
        raise LobbyMessageError("a lobby message must be a JSON object (this is not JSON)") from None
    if not isinstance(message, dict):
        raise LobbyMessageError(f"a lobby message must be a JSON object, not {type(message).__name__}")
    kind = message.get("type")
    if kind not in expected:
        raise LobbyMessageError(f"'type' must be {' or '.join(repr(e) for e in expected)}, not {kind!r}"[:200])
    if kind in ("lobby", "hub"):  # the first message of a connection
        if "version" not in message:
            raise LobbyMessageError("'version' is missing")
        version = message.get("version")
        if type(version) is not int:
            raise LobbyMessageError(f"'version' must be an integer (this lobby speaks {LOBBY_VERSION})")
        if version != LOBBY_VERSION:
            raise LobbyMessageError(f"'version' is {version}; this lobby speaks {LOBBY_VERSION}")
    return message


@dataclass(frozen=True)
class GameRequest:
    """A game's ``lobby`` message."""

    env: str
    #: The slot URL the game lost, to avoid assigning it again (``None``: none).
    previous: str | None


def parse_game_message(data: str | bytes) -> GameRequest:
    """Reads a game's ``lobby`` message; raises :class:`LobbyMessageError` naming the field."""
    message = _decode(data, ("lobby",))
    env = _name(message, "env")
    previous = message.get("previous")
    return GameRequest(env, None if previous is None else _url(previous, "'previous'"))


def parse_free(message: Mapping[str, Any], max_slots: int) -> dict[str, str]:
    """The ``free`` map of a ``hub`` or ``free`` message; raises :class:`LobbyMessageError`."""
    free = message.get("free")
    if not isinstance(free, dict):
        raise LobbyMessageError(f"'free' must be an object of slot ids to slot URLs, not {type(free).__name__}")
    if len(free) > max_slots:
        raise LobbyMessageError(f"'free' lists {len(free)} slots; this lobby takes at most {max_slots} (max_slots)")
    for slot, url in free.items():
        if not slot or len(slot) > MAX_NAME or not slot.isprintable():
            raise LobbyMessageError(f"'free' keys must be slot ids of at most {MAX_NAME} printable characters")
        _url(url, f"'free'[{slot!r}]")
    return free


@dataclass
class _Hub:
    """A registered hub; touched only on the lobby's event loop."""

    id: str
    env: str
    ws: ServerConnection
    #: What the hub's latest message listed as free.
    free: dict[str, str] = field(default_factory=dict)
    #: Slots assigned to a game that has not arrived yet: the timer that gives them back.
    reserved: dict[str, asyncio.TimerHandle] = field(default_factory=dict)

    def has_available(self) -> bool:
        """Whether a free slot is not reserved (every reserved slot is in ``free``: :meth:`Lobby._update`
        ends the reservations of slots a new map leaves out)."""
        return len(self.free) > len(self.reserved)

    def available(self) -> list[str]:
        """Free slots that are not reserved, in the hub's order."""
        return [s for s in self.free if s not in self.reserved]


@dataclass(eq=False)
class _Waiter:
    """A game waiting for a slot."""

    number: int
    request: GameRequest
    #: Set to (slot URL, hub id, slot id) when a slot is assigned.
    assigned: asyncio.Future[tuple[str, str, str]]


def _matches(game_env: str, hub_env: str) -> bool:
    return not game_env or not hub_env or game_env == hub_env


class Lobby:
    """Assigns free slots of registered hubs to games that ask (``docs/protocol.md``, *Lobby*).

    Args:
        host: the address to bind.
        port: the port; 0 picks a free one (read it back from :attr:`port`).
        token: if set, games must send it (``Authorization: Bearer`` or ``?token=``) to reach
            ``/lobby``; others get HTTP 401 before the upgrade.
        hub_token: if set, hubs must send it to reach ``/lobby/hubs``. Required when ``token``
            is set, and different from it: whoever registers a hub receives games and the token
            they send.
        reserve_timeout: seconds an assigned slot stays reserved for its game; if the hub still
            lists it free afterwards, it is offered again.

    Limits on what a client may cost the lobby (``docs/security.md``):

    Args:
        max_waiting: the most game connections at once; past it a game is closed with 1013
            (try again later).
        max_hubs: the most hubs registered at once; past it a new hub is closed with 1013.
        max_slots: the most slots one hub may list (4400 past it).
        max_size: the largest message a hub may send, in bytes (1009 past it); a game's one
            message may be at most 8 KiB.
        hello_timeout: seconds a new connection has to send its first message (else 4400).
        max_connections, max_handshakes, handshake_timeout: as :class:`~wsbridge.Hub`'s
            (HTTP 503 at accept past the caps); ``max_connections`` defaults to
            ``max_waiting + max_hubs + 128``, ``max_handshakes`` to 256 (games arrive in bursts).
        ping_interval, ping_timeout: keepalive, in seconds.

    Use it on an event loop::

        async with Lobby(port=9000, token=t, hub_token=ht) as lobby:
            await lobby.serve_forever()
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 9000,
        token: str | None = None,
        hub_token: str | None = None,
        reserve_timeout: float = 15.0,
        max_waiting: int = 4096,
        max_hubs: int = 128,
        max_slots: int = 4096,
        max_size: int = 1 * 2**20,
        hello_timeout: float = 10.0,
        max_connections: int | None = None,
        max_handshakes: int = 256,
        handshake_timeout: float = 10.0,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
    ) -> None:
        if token is not None and hub_token is None:
            raise ValueError("hub_token is required when token is set: whoever registers a hub receives the "
                             "games and the token they send")
        if token is not None and token == hub_token:
            raise ValueError("hub_token must differ from token: a game's token never registers a hub")
        if max_connections is None:
            max_connections = max_waiting + max_hubs + 128
        limits = {"max_waiting": max_waiting, "max_hubs": max_hubs, "max_slots": max_slots, "max_size": max_size,
                  "max_connections": max_connections, "max_handshakes": max_handshakes}
        for name, value in limits.items():
            if type(value) is not int or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        for name, seconds in {"reserve_timeout": reserve_timeout, "hello_timeout": hello_timeout,
                              "handshake_timeout": handshake_timeout}.items():
            if not seconds > 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {seconds!r}")
        self.host, self._requested_port = host, port
        self.reserve_timeout, self.hello_timeout, self.handshake_timeout = (reserve_timeout, hello_timeout,
                                                                           handshake_timeout)
        self.max_waiting, self.max_hubs, self.max_slots, self.max_size = max_waiting, max_hubs, max_slots, max_size
        self._ping = (ping_interval, ping_timeout)
        self._refused = RefusalLog(logger)
        # One gate counts every connection; each path checks its own token.
        self._gate = Gate(token=token, max_connections=max_connections, max_handshakes=max_handshakes,
                          refused=self._refused, path_tokens={HUBS_PATH: hub_token}, server="lobby")
        self._server: Server | None = None
        self._port: int | None = None
        self._closing = False
        self._hubs: dict[str, _Hub] = {}
        self._connections: set[ServerConnection] = set()  # open past the upgrade
        self._games = 0  # game connections open (waiting or sending their message)
        # Waiting games, in arrival order: all of them, and by env name.
        self._queue: collections.OrderedDict[int, _Waiter] = collections.OrderedDict()
        self._by_env: dict[str, collections.OrderedDict[int, _Waiter]] = {}
        self._arrivals = 0
        self._changed: asyncio.Condition | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        #: Assignments made, hubs registered and hubs gone since the start.
        self.assignments = self.registrations = self.hubs_left = 0

    # ---- life cycle --------------------------------------------------------------------

    async def start(self) -> Lobby:
        """Binds the port and starts serving; raises ``OSError`` if binding fails."""
        if self._server is not None:
            raise RuntimeError("the lobby is already started")
        check_file_limit(self._gate.max_connections, logger)
        self._changed = asyncio.Condition()
        self._server = await serve(self._handle, self.host, self._requested_port, compression=None,
                                   max_size=MAX_GAME_MESSAGE, ping_interval=self._ping[0],
                                   ping_timeout=self._ping[1], open_timeout=self.handshake_timeout,
                                   process_request=self._gate.process_request,
                                   create_connection=self._gate.connection_class())
        self._port = self._server.sockets[0].getsockname()[1]
        logger.info("lobby listening on ws://%s:%d (games at %s, hubs at %s)", self.host, self._port,
                    LOBBY_PATH, HUBS_PATH)
        return self

    async def close(self) -> None:
        """Closes every connection with 1001 (games and hubs come back with backoff to the
        next lobby) and stops listening."""
        if self._server is None or self._closing:
            return
        self._closing = True
        await asyncio.gather(*(ws.close(CloseCode.GOING_AWAY, "the lobby is shutting down")
                               for ws in list(self._connections)), return_exceptions=True)
        self._server.close()  # connections still opening get HTTP 503
        await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        logger.info("lobby closed")

    async def serve_forever(self) -> None:
        """Waits until the lobby is closed (by :meth:`close` from another task)."""
        if self._server is None:
            raise RuntimeError("the lobby is not started")
        await self._server.wait_closed()

    async def __aenter__(self) -> Lobby:
        return await self.start()

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.close()

    @property
    def port(self) -> int:
        """The port the lobby listens on."""
        if self._port is None:
            raise RuntimeError("the lobby is not started")
        return self._port

    # ---- what it knows (for tests and monitoring) ---------------------------------------

    def state(self) -> dict[str, Any]:
        """A snapshot: ``{"hubs": {id: {"env", "free": [slot ids not reserved], "reserved": [...]}},
        "waiting": number of games waiting, "assignments", "registrations", "hubs_left": counts since
        the start}``. Call it on the lobby's loop."""
        return {"hubs": {h.id: {"env": h.env, "free": h.available(), "reserved": sorted(h.reserved)}
                         for h in self._hubs.values()},
                "waiting": len(self._queue), "assignments": self.assignments, "registrations": self.registrations,
                "hubs_left": self.hubs_left}

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float | None = None
                       ) -> dict[str, Any]:
        """Waits until ``predicate(self.state())`` holds (checked on every change); returns that
        state. Raises ``TimeoutError`` after ``timeout`` seconds."""
        assert self._changed is not None, "the lobby is not started"
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: predicate(self.state()))
            return self.state()

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    # ---- admission -----------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        # The gate has checked the path's token.
        if self._closing:
            return await ws.close(CloseCode.GOING_AWAY, "the lobby is shutting down")
        path = ws.request.path.partition("?")[0] if ws.request else "?"
        self._connections.add(ws)
        try:
            if path == LOBBY_PATH:
                await self._serve_game(ws)
            elif path == HUBS_PATH:
                await self._serve_hub(ws)
            else:
                await self._refuse(ws, CloseCode.UNKNOWN_SLOT, f"nothing at {path}: this lobby serves {LOBBY_PATH} "
                                   f"(games) and {HUBS_PATH} (hubs)")
        finally:
            self._connections.discard(ws)

    async def _refuse(self, ws: ServerConnection, code: int, reason: str) -> None:
        self._refused("lobby refused a connection from %s:%s: %d %s", *ws.remote_address[:2], code, reason)
        await ws.close(code, _cut(reason))

    async def _first(self, ws: ServerConnection, what: str) -> str | bytes | None:
        """The connection's first message, or ``None`` after refusing it (late, too large)."""
        try:
            async with asyncio.timeout(self.hello_timeout):
                return await ws.recv()
        except TimeoutError:
            await self._refuse(ws, CloseCode.PROTOCOL_VIOLATION, f"no {what} message within {self.hello_timeout:g} s")
        except ConnectionClosed as e:
            if e.sent is not None and e.sent.code == 1009:
                self._refused("lobby refused a connection from %s:%s: 1009 message over the size limit",
                              *ws.remote_address[:2])
        return None

    # ---- games ---------------------------------------------------------------------------

    async def _serve_game(self, ws: ServerConnection) -> None:
        if self._games >= self.max_waiting:
            return await self._refuse(ws, TRY_AGAIN_LATER, f"the lobby holds {self._games} games (max_waiting); "
                                      "retry later")
        self._games += 1
        try:
            await self._game(ws)
        finally:
            self._games -= 1

    async def _game(self, ws: ServerConnection) -> None:
        first = await self._first(ws, "lobby")
        if first is None:
            return
        try:
            request = parse_game_message(first)
        except LobbyMessageError as e:
            return await self._refuse(ws, CloseCode.PROTOCOL_VIOLATION, str(e))
        loop = asyncio.get_running_loop()
        self._arrivals += 1
        waiter = _Waiter(self._arrivals, request, loop.create_future())
        self._queue[waiter.number] = waiter
        self._by_env.setdefault(request.env, collections.OrderedDict())[waiter.number] = waiter
        self._match()
        await self._notify()
        more = asyncio.ensure_future(ws.recv())
        try:
            await asyncio.wait((waiter.assigned, more), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not more.done():
                more.cancel()
            self._withdraw(waiter)
        left = more.done() and not more.cancelled() and more.exception() is not None
        if not waiter.assigned.done():
            waiter.assigned.cancel()
            await self._notify()
            if left:
                return  # the game left (or the lobby is closing)
            return await self._refuse(ws, CloseCode.PROTOCOL_VIOLATION,
                                      "a game sends one lobby message, then waits for its assignment")
        url, hub_id, slot = waiter.assigned.result()
        try:
            await ws.send(json.dumps({"type": "assign", "url": url, "hub": hub_id}))
            await ws.close(CloseCode.NORMAL, "assigned")
        except ConnectionClosed:
            logger.info("the game from %s:%s left before its assignment of %s could be sent; the slot is free "
                        "again", *ws.remote_address[:2], url)
            self._unreserve(hub_id, slot)
            return
        logger.info("assigned %s (hub %s) to the game from %s:%s", url, hub_id, *ws.remote_address[:2])

    def _withdraw(self, waiter: _Waiter) -> None:
        """Takes ``waiter`` out of the queues (if it is still in them)."""
        self._queue.pop(waiter.number, None)
        same_env = self._by_env.get(waiter.request.env)
        if same_env is not None:
            same_env.pop(waiter.number, None)
            if not same_env:
                del self._by_env[waiter.request.env]

    # ---- matching --------------------------------------------------------------------------

    def _match(self) -> None:
        """Assigns available slots to waiting games, earliest game first, until no waiting game
        matches an available slot."""
        while self._queue:
            open_envs = {h.env for h in self._hubs.values() if h.has_available()}
            if not open_envs:
                return
            if "" in open_envs:  # a hub for any game: the earliest game of all
                waiter = next(iter(self._queue.values()))
            else:
                heads = [next(iter(self._by_env[e].values())) for e in open_envs if e in self._by_env]
                if "" in self._by_env:  # games that take any hub
                    heads.append(next(iter(self._by_env[""].values())))
                if not heads:
                    return
                waiter = min(heads, key=lambda w: w.number)
            self._assign(waiter)

    def _assign(self, waiter: _Waiter) -> None:
        """Gives ``waiter`` a slot of the matching hub with the most available slots, avoiding
        the slot it lost if another one is available."""
        request = waiter.request
        best: tuple[tuple[bool, int], _Hub, str] | None = None
        for hub in self._hubs.values():
            available = hub.available() if _matches(request.env, hub.env) else []
            if available:
                fresh = [s for s in available if hub.free[s] != request.previous]
                rank = (bool(fresh), len(available))
                if best is None or rank > best[0]:
                    best = (rank, hub, (fresh or available)[0])
        assert best is not None, "_match picked a game no hub matches"
        _, hub, slot = best
        url = hub.free[slot]
        self._withdraw(waiter)
        hub.reserved[slot] = asyncio.get_running_loop().call_later(self.reserve_timeout, self._expire, hub.id, slot)
        self.assignments += 1
        waiter.assigned.set_result((url, hub.id, slot))
        self._send_to_hub(hub, {"type": "reserved", "slot": slot})

    def _expire(self, hub_id: str, slot: str) -> None:
        """``reserve_timeout`` passed and the game did not arrive: offer the slot again."""
        hub = self._hubs.get(hub_id)
        if hub is None or hub.reserved.pop(slot, None) is None:
            return
        if slot in hub.free:
            logger.info("the reservation of slot %s of hub %s expired (no game arrived within %g s); offered again",
                        slot, hub_id, self.reserve_timeout)
        self._changed_pool()

    def _unreserve(self, hub_id: str, slot: str) -> None:
        hub = self._hubs.get(hub_id)
        timer = None if hub is None else hub.reserved.pop(slot, None)
        if timer is not None:
            timer.cancel()
            self._changed_pool()

    def _changed_pool(self) -> None:
        """The available slots changed: match, then wake up :meth:`wait_for`."""
        self._match()
        self._spawn(self._notify())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- hubs ------------------------------------------------------------------------------

    def _send_to_hub(self, hub: _Hub, message: dict[str, Any]) -> None:
        async def send() -> None:
            try:
                await hub.ws.send(json.dumps(message))
            except ConnectionClosed:
                pass

        self._spawn(send())

    async def _serve_hub(self, ws: ServerConnection) -> None:
        ws.protocol.max_message_size = self.max_size
        first = await self._first(ws, "hub")
        if first is None:
            return
        try:
            message = _decode(first, ("hub",))
            hub_id, env = _name(message, "id"), _name(message, "env")
            if not hub_id:
                raise LobbyMessageError("'id' must not be empty")
            free = parse_free(message, self.max_slots)
        except LobbyMessageError as e:
            return await self._refuse(ws, CloseCode.PROTOCOL_VIOLATION, str(e))
        old = self._hubs.get(hub_id)
        if old is None and len(self._hubs) >= self.max_hubs:
            return await self._refuse(ws, TRY_AGAIN_LATER, f"the lobby has {len(self._hubs)} hubs (max_hubs); "
                                      "retry later")
        hub = _Hub(hub_id, env, ws, free)
        if old is not None:  # the same hub again (it reconnected before its old connection was noticed dead)
            hub.reserved = old.reserved
            self._spawn(old.ws.close(CloseCode.SLOT_TAKEN, "replaced by a new connection of the same hub id"))
        self._hubs[hub_id] = hub
        self.registrations += 1
        address = "%s:%s" % ws.remote_address[:2]
        logger.info("hub %s registered from %s (env %r, %d free slots)", hub_id, address, env, len(free))
        self._update(hub, free)
        try:
            async for data in ws:
                try:
                    self._update(hub, parse_free(_decode(data, ("free",)), self.max_slots))
                except LobbyMessageError as e:
                    return await self._refuse(ws, CloseCode.PROTOCOL_VIOLATION, str(e))
        except ConnectionClosed:
            pass
        finally:
            if self._hubs.get(hub_id) is hub:
                del self._hubs[hub_id]
                for timer in hub.reserved.values():
                    timer.cancel()
                level = logging.INFO if self._closing or ws.close_code == CloseCode.NORMAL else logging.WARNING
                logger.log(level, "hub %s (%s) left (%s); its %d free slots are forgotten", hub_id, address,
                           close_text(ws.close_code, ws.close_reason), len(hub.free))
                self.hubs_left += 1
                self._changed_pool()

    def _update(self, hub: _Hub, free: dict[str, str]) -> None:
        """A new free map from ``hub``: a reserved slot it no longer lists was taken by its game."""
        for slot in [s for s in hub.reserved if s not in free]:
            hub.reserved.pop(slot).cancel()
        hub.free = free
        self._changed_pool()


def _cut(reason: str) -> str:
    """A close reason within the 123 bytes WebSocket allows."""
    data = reason.encode()
    return reason if len(data) <= 123 else data[:120].decode(errors="ignore") + "..."


# ---- python -m wsbridge.lobby ----------------------------------------------------------------

async def _run(args: argparse.Namespace) -> None:
    token = args.token if args.token is not None else os.environ.get("WSBRIDGE_LOBBY_TOKEN")
    hub_token = args.hub_token if args.hub_token is not None else os.environ.get("WSBRIDGE_LOBBY_HUB_TOKEN")
    lobby = Lobby(host=args.host, port=args.port, token=token, hub_token=hub_token,
                  reserve_timeout=args.reserve_timeout, max_waiting=args.max_waiting, max_hubs=args.max_hubs)
    await lobby.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(lobby.port, flush=True)
    await stop.wait()
    await lobby.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m wsbridge.lobby``: runs a lobby until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m wsbridge.lobby", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9000, help="port (0: a free one; printed on stdout)")
    parser.add_argument("--token", help="games' token (default: $WSBRIDGE_LOBBY_TOKEN)")
    parser.add_argument("--hub-token", help="hubs' token (default: $WSBRIDGE_LOBBY_HUB_TOKEN)")
    parser.add_argument("--reserve-timeout", type=float, default=15.0, help="seconds a slot is reserved (15)")
    parser.add_argument("--max-waiting", type=int, default=4096, help="most game connections at once (4096)")
    parser.add_argument("--max-hubs", type=int, default=128, help="most hubs registered at once (128)")
    parser.add_argument("--log-level", default="INFO", help="logging level (INFO)")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        asyncio.run(_run(args))
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
