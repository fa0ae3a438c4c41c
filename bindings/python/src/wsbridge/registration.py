"""A hub's registration with a lobby (``docs/protocol.md``, *Lobby*), and the lobby protocol's
names: the hub side of :mod:`wsbridge.lobby`.

A :class:`Hub` given ``lobby=`` runs one :class:`Registration` on its event loop: it sends the
lobby the hub's free slots, then the whole map again on every change, and reconnects with
backoff whenever the lobby is unreachable. Kept apart from the lobby server so that a hub never
loads the server (and ``python -m wsbridge.lobby`` runs a module nothing imported before).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from .protocol import CloseCode

__all__ = ["HUBS_PATH", "LOBBY_PATH", "LOBBY_VERSION", "REGISTER_DELAY", "REGISTER_MAX_DELAY", "Registration",
           "close_text"]

logger = logging.getLogger("wsbridge")

#: Where games ask for a slot.
LOBBY_PATH = "/lobby"
#: Where hubs register their free slots.
HUBS_PATH = "/lobby/hubs"
#: The lobby protocol's version (the ``version`` key of the first message).
LOBBY_VERSION = 1

#: Backoff between a hub's attempts to reach the lobby: from this, doubling to the next, forever.
REGISTER_DELAY = 0.05
REGISTER_MAX_DELAY = 2.0


class Registration:
    """A hub's registration with a lobby, run on the hub's event loop (:meth:`run`).

    It connects to ``url`` (``.../lobby/hubs``), sends the ``hub`` message with the free map
    ``free()`` returns, then the whole map again after every :meth:`changed` that changed it.
    When the connection fails or drops it reconnects with backoff (50 ms doubling to 2 s) until
    cancelled, and registers again with the full map. Nothing in it ever touches a game's
    connection: a lobby that is down, slow or refusing costs the hub's games nothing.
    """

    def __init__(self, url: str, *, hub_id: str, env: str, free: Callable[[], dict[str, str]],
                 token: str | None = None, log: logging.Logger = logger) -> None:
        self.url, self.hub_id, self.env = url, hub_id, env
        self._free, self._token, self._log = free, token, log
        self._changed = asyncio.Event()
        #: Whether the lobby holds this hub's current free map (the last send went through).
        self.registered = False
        #: Successful registrations so far (1 + re-registrations).
        self.registrations = 0

    def changed(self) -> None:
        """The free slots may have changed: send the map again (if it differs). Call on the loop."""
        self._changed.set()

    async def run(self) -> None:
        """Registers and keeps the lobby up to date until cancelled."""
        delay, failures = REGISTER_DELAY, 0
        while True:
            level = logging.WARNING
            try:
                what = await self._session()
            except ConnectionClosed as e:
                what = f"the connection dropped ({_closed_text(e)})"
            except InvalidStatus as e:
                status = e.response.status_code
                what = f"HTTP {status}" + (" (wrong or missing lobby_token)" if status == 401 else "")
                level = logging.ERROR if status == 401 else level
            except (OSError, TimeoutError, InvalidURI, InvalidHandshake) as e:
                what = f"{type(e).__name__}: {e}"
            except Exception as e:  # a bug here must not end the registration for good
                self._log.exception("hub %s: unexpected error in the lobby registration", self.hub_id)
                what = f"{type(e).__name__}: {e}"
            if self.registered:  # this connection had registered: a new outage starts
                self.registered = False
                delay, failures = REGISTER_DELAY, 0
            self._log.log(level if failures == 0 else logging.DEBUG, "hub %s: lobby %s: %s; retrying with backoff%s",
                          self.hub_id, self.url, what, "" if failures == 0 else f" (attempt {failures + 1})")
            failures += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, REGISTER_MAX_DELAY)

    async def _session(self) -> str:
        """One connection: registers, then sends every change until the lobby closes it (returns
        how) or it fails (raises)."""
        headers = {} if self._token is None else {"Authorization": f"Bearer {self._token}"}
        async with connect(self.url, additional_headers=headers, max_size=64 * 1024, open_timeout=10,
                           close_timeout=2, compression=None) as ws:
            sent = self._free()
            self._changed.clear()
            await ws.send(json.dumps({"type": "hub", "version": LOBBY_VERSION, "id": self.hub_id, "env": self.env,
                                      "free": sent}))
            self.registered = True
            self.registrations += 1
            self._log.info("hub %s registered with the lobby at %s (%d free slots)%s", self.hub_id, self.url,
                           len(sent), "" if self.registrations == 1 else " again")
            reader = asyncio.ensure_future(self._read(ws))
            changed: asyncio.Future[Any] | None = None
            try:
                while True:
                    changed = asyncio.ensure_future(self._changed.wait())
                    await asyncio.wait((changed, reader), return_when=asyncio.FIRST_COMPLETED)
                    if reader.done():
                        reader.result()  # raises ConnectionClosed if it was not a clean close
                        return f"the lobby closed the connection ({close_text(ws.close_code, ws.close_reason)})"
                    self._changed.clear()
                    free = self._free()
                    if free != sent:
                        await ws.send(json.dumps({"type": "free", "free": free}))
                        sent = free
            except asyncio.CancelledError:  # the hub is closing: say so (not 1011, as leaving the block would)
                await ws.close(CloseCode.NORMAL, "the hub is closing")
                raise
            finally:
                reader.cancel()
                if changed is not None:
                    changed.cancel()

    async def _read(self, ws: ClientConnection) -> None:
        """Reads what the lobby sends (``reserved`` notes, logged at DEBUG) until it closes."""
        async for data in ws:
            try:
                note = json.loads(data)
                slot = note.get("slot") if isinstance(note, dict) else None
            except ValueError:
                slot = None
            self._log.debug("hub %s: the lobby assigned slot %r to a game", self.hub_id, slot)


def _closed_text(e: ConnectionClosed) -> str:
    return close_text(None if e.rcvd is None else e.rcvd.code, None if e.rcvd is None else e.rcvd.reason)


def close_text(code: int | None, reason: str | None) -> str:
    if code is None:
        return "no close frame"
    return f"code {code}" + (f" {reason!r}" if reason else "")
