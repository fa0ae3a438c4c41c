"""One round trip to many games without an asyncio task per game: the hub's step path.

:meth:`Hub.exchange <wsbridge.hub.Hub.exchange>` sends a request to every game and waits for
every answer. Through the public ``websockets`` API that costs, per game and per step, a task, a
``send`` and a ``recv`` coroutine, a timeout context and a pass through the connection's message
assembler. A :class:`Batch` instead writes each request as one frame straight to the connection's
transport, and each answer is handed to it from the connection's frame handler
(:class:`BatchedConnection`, the hub's connection class): one completion callback for the whole
round trip and one timer for its reply timeout.

When an answer arrives as exactly one read of the socket holding one whole binary frame, and the
connection's frame parser is between frames, :meth:`BatchedConnection.data_received` unmasks it
and hands it over without running ``websockets``' generator-based parser (the frame is checked as
that parser checks it: FIN set, no reserved bits, masked, within the size limit).

Only the common case takes this path: an open connection with nothing queued, answering with one
unfragmented binary message. Anything else (a text or fragmented answer, a connection lost
meanwhile, a connection in another state, a ``websockets`` version whose internals differ) hands
that game back to the hub's per-request path (:meth:`Batch.fallback`), which behaves as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from websockets.asyncio.server import ServerConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol, State
from websockets.streams import StreamReader

try:
    from websockets.speedups import apply_mask
except ImportError:  # websockets without its C extension
    from websockets.utils import apply_mask

__all__ = ["Batch", "BatchedConnection"]


#: The frame loop of the parser, and the end-of-stream check it waits in between frames.
_FRAME_LOOP = getattr(getattr(Protocol, "parse", None), "__code__", None)
_BETWEEN_FRAMES = getattr(getattr(StreamReader, "at_eof", None), "__code__", None)


def _between_frames(protocol: Protocol) -> bool:
    """Whether ``protocol``'s parser has consumed every byte it got and waits for a new frame,
    outside a fragmented message, with no extension (internals of ``websockets`` 13 to 17;
    otherwise False)."""
    try:
        if (protocol.reader.buffer or protocol.current_size is not None or protocol.extensions
                or protocol.state is not State.OPEN or _BETWEEN_FRAMES is None):
            return False
        outer, inner = None, cast(Any, protocol.parser)
        while inner.gi_yieldfrom is not None:  # the server's parse waits in Protocol.parse
            outer, inner = inner, inner.gi_yieldfrom
        return inner.gi_code is _BETWEEN_FRAMES and outer is not None and outer.gi_code is _FRAME_LOOP
    except AttributeError:
        return False


def _binary_frame(data: bytes, max_size: int | None) -> bytes | None:
    """The payload of ``data`` if it is exactly one masked, final binary frame without reserved
    bits within ``max_size``; else None (the parser of ``websockets`` deals with it)."""
    n = len(data)
    if n < 6 or data[0] != 0x82 or not data[1] & 0x80:
        return None
    length, at = data[1] & 0x7F, 2
    if length == 126:
        length, at = int.from_bytes(data[2:4], "big"), 4
    elif length == 127:
        length, at = int.from_bytes(data[2:10], "big"), 10
    if at + 4 + length != n or (max_size is not None and length > max_size):
        return None
    return apply_mask(data[at + 4:], data[at:at + 4])


class BatchedConnection(ServerConnection):
    """A server connection whose next binary answer may go straight to a :class:`Batch`."""

    _batch: Batch | None = None
    _index = 0

    def data_received(self, data: bytes) -> None:
        batch = self._batch
        if batch is not None and _between_frames(self.protocol):
            limits = [m for m in (self.protocol.max_message_size, getattr(self.protocol, "max_fragment_size", None))
                      if m is not None]
            payload = _binary_frame(data, min(limits) if limits else None)
            if payload is not None:
                self._batch = None
                batch.answered(self._index, payload)
                return
        super().data_received(data)

    def process_event(self, event: Any) -> None:
        batch = self._batch
        if batch is None or not isinstance(event, Frame) or event.opcode not in (Opcode.BINARY, Opcode.TEXT,
                                                                                 Opcode.CONT):
            super().process_event(event)
            return
        self._batch = None
        if event.opcode is Opcode.BINARY and event.fin:
            data = event.data
            batch.answered(self._index, data if type(data) is bytes else bytes(data))
        else:  # a text or fragmented answer: websockets assembles it, the per-request path reads it
            super().process_event(event)
            batch.fallback(self._index)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        batch, self._batch = self._batch, None
        if batch is not None:
            batch.fallback(self._index)


def _frame(first: int, data: bytes) -> bytes:
    """A final, unmasked frame: ``first`` is its first byte (FIN and the opcode)."""
    n = len(data)
    if n < 126:
        head = bytes((first, n))
    elif n < 65536:
        head = bytes((first, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((first, 127)) + n.to_bytes(8, "big")
    return head + data


def _can_batch(ws: ServerConnection) -> bool:
    """Whether ``ws`` is open, idle (no message queued either way, no ``recv`` running, no
    outgoing data pending in its protocol) and of this module's class, as the fast path needs
    (internals of ``websockets`` 14 to 17; otherwise False)."""
    if (not isinstance(ws, BatchedConnection) or ws._batch is not None or ws.protocol.state is not State.OPEN
            or getattr(ws.protocol, "writes", True)):
        return False
    messages = getattr(ws, "recv_messages", None)
    frames = getattr(getattr(messages, "frames", None), "queue", None)
    return frames is not None and not frames and not getattr(messages, "get_in_progress", True)


class Batch:
    """The answers of one round trip, filled in as they come; the :meth:`when_done` callback runs
    as soon as all are (in the call that fills in the last one, not a loop turn later).

    ``fallback(index, ws)`` is called for a game that leaves the fast path after its request
    was sent on ``ws``: it must fill in ``index`` itself (from the per-request path)."""

    def __init__(self, count: int, fallback: Callable[[int, ServerConnection], None]) -> None:
        self.results: list[Any] = [None] * count
        self.waiting: dict[int, BatchedConnection] = {}
        self._left = count
        self.done = count == 0
        self._on_done: Callable[[], None] | None = None
        self._fallback = fallback

    def send(self, index: int, ws: ServerConnection, payload: bytes | str) -> bool:
        """Writes ``payload`` to ``ws`` and waits for its answer on the fast path; False (nothing
        sent) if ``ws`` cannot take that path now."""
        if not _can_batch(ws):
            return False
        assert isinstance(ws, BatchedConnection)
        data = payload.encode() if isinstance(payload, str) else payload
        ws._batch, ws._index = self, index
        self.waiting[index] = ws
        try:
            # One unmasked frame (a server's), straight to the transport; websockets' protocol has
            # nothing queued (checked), so the order of what goes out is kept.
            ws.transport.write(_frame(0x81 if isinstance(payload, str) else 0x82, data))
        except Exception as exc:  # as websockets does: the connection is failing, its loss follows
            ws.set_connection_exc(exc)
            ws.transport.abort()
        return True

    def answered(self, index: int, data: bytes) -> None:
        self.waiting.pop(index, None)
        self.fill(index, data)

    def fallback(self, index: int) -> None:
        ws = self.waiting.pop(index, None)
        if ws is not None:
            self._fallback(index, ws)

    def fill(self, index: int, result: Any) -> None:
        self.results[index] = result
        self._left -= 1
        if self._left == 0:
            self._finish()

    def when_done(self, callback: Callable[[], None]) -> None:
        """Runs ``callback`` once every answer is in (now, if they are) or the batch is cancelled."""
        if self.done:
            callback()
        else:
            self._on_done = callback

    def _finish(self) -> None:
        if self.done:
            return
        self.done = True
        callback, self._on_done = self._on_done, None
        if callback is not None:
            callback()

    def cancel(self) -> None:
        """The caller gave up: ends the round trip (what is still waited for is dropped)."""
        self._finish()

    def detach(self) -> list[tuple[int, BatchedConnection]]:
        """Stops waiting on the fast path; the games that had not answered yet."""
        left = list(self.waiting.items())
        for _, ws in left:
            ws._batch = None
        self.waiting.clear()
        return left
