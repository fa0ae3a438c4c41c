"""The exceptions the package raises (besides ``ValueError``/``TypeError`` for bad arguments)."""

from __future__ import annotations


class ProtocolError(Exception):
    """A game broke the wire protocol (``docs/protocol.md``).

    The message states what was wrong and, where known, which slot sent it. The hub closes the
    offending connection with code 4400 and the same text as its reason (cut to 123 bytes).
    """


class GameLostError(RuntimeError):
    """A game disconnected and did not come back within the hub's ``reconnect_timeout``."""


class ReplyTimeoutError(TimeoutError):
    """A connected game did not answer a ``reset`` or ``step`` within the hub's ``reply_timeout``.

    The hub closes that connection with code 4408, so the game reconnects and the lockstep
    conversation starts over cleanly.
    """
