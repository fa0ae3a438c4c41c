"""The env protocol's messages (``docs/protocol.md``): hello, reset and step, and close codes."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import ProtocolError
from .spaces import Space, space_from_json
from .wire import DTYPES, Message, decode, encode

__all__ = ["PROTOCOL_VERSION", "CloseCode", "GameInfo", "StepReply", "parse_hello", "parse_reset_reply",
           "parse_step_reply", "reset_request", "step_request"]

#: The protocol version this package speaks (the ``protocol`` key of ``hello``).
PROTOCOL_VERSION = 1

#: Seeds travel as JSON integers in ``[0, 2**63)``.
MAX_SEED = 2**63

_REWARD_DTYPES = (DTYPES["float32"], DTYPES["float64"])
_BOOL_DTYPES = (DTYPES["bool"],)


class CloseCode(enum.IntEnum):
    """Close codes the hub sends (``docs/protocol.md``, *Refusals and close codes*)."""

    #: Training finished: the game should exit.
    NORMAL = 1000
    #: The trainer process is going away: reconnect with backoff.
    GOING_AWAY = 1001
    #: The game broke the protocol; the reason says how.
    PROTOCOL_VIOLATION = 4400
    #: Missing or wrong token.
    UNAUTHORIZED = 4401
    #: No slot at that path.
    UNKNOWN_SLOT = 4404
    #: The game did not answer in time; it should reconnect.
    REPLY_TIMEOUT = 4408
    #: Another connection holds the slot: reconnect with backoff.
    SLOT_TAKEN = 4409


@dataclass(frozen=True)
class GameInfo:
    """What a connected game declared in its ``hello``, and where it connected."""

    #: The slot id (``"3"`` for ``/env/3``).
    slot: str
    #: The URL path the game connected to.
    path: str
    #: The game's name from its hello ("" if it gave none).
    name: str
    #: Number of agents the game simulates.
    agents: int
    #: The space of one agent's observation.
    observation_space: Space
    #: The space of one agent's action.
    action_space: Space
    #: The peer's address, ``"host:port"``.
    address: str
    #: How many times a game has connected to this slot (1 for the first connection).
    connection: int

    def same_game(self, other: GameInfo) -> bool:
        """Whether ``other`` declares the same agents and spaces (a valid reconnection)."""
        return (self.agents, self.observation_space, self.action_space) == (
            other.agents, other.observation_space, other.action_space)


@dataclass(frozen=True)
class StepReply:
    """One game's answer to ``step``: one row per agent. The arrays are read-only views on the
    received message (``reward`` float32 or float64): copy what you keep."""

    obs: NDArray[Any]
    reward: NDArray[np.floating[Any]]
    terminated: NDArray[np.bool_]
    truncated: NDArray[np.bool_]
    infos: list[dict[str, Any]]


def parse_hello(data: bytes | str, *, slot: str, path: str, address: str, connection: int) -> GameInfo:
    """Validates a game's first message."""
    message = decode(data)
    if message.type != "hello":
        raise ProtocolError(f"the first message must be 'hello', not {message.type!r}")
    h = message.header
    version = h.get("protocol")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {version!r} is not supported (this hub speaks {PROTOCOL_VERSION})")
    agents = h.get("agents")
    if type(agents) is not int or agents < 1:
        raise ProtocolError(f"hello: 'agents' must be a positive integer, not {agents!r}")
    name = h.get("name", "")
    if not isinstance(name, str):
        raise ProtocolError(f"hello: 'name' must be a string, not {name!r}")
    observation_space = space_from_json(h.get("observation_space"), "observation_space")
    action_space = space_from_json(h.get("action_space"), "action_space")
    return GameInfo(slot, path, name, agents, observation_space, action_space, address, connection)


def reset_request(seeds: Sequence[int | None], options: Mapping[str, Any] | None) -> str | bytes:
    """A ``reset`` request; ``seeds`` has one entry per agent."""
    return encode("reset", {"seeds": list(seeds), "options": dict(options or {})})


def step_request(actions: NDArray[Any], reset: NDArray[np.bool_], action_dtype: np.dtype[Any]) -> str | bytes:
    """A ``step`` request: ``actions`` has one row per agent, sent as ``action_dtype`` (the
    action space's :func:`~wsbridge.spaces.action_wire_dtype`); ``reset`` flags agents to reset."""
    return encode("step", arrays={
        "action": np.asarray(actions).astype(action_dtype, copy=False),
        "reset": np.asarray(reset, dtype=np.bool_),
    })


def parse_reset_reply(data: bytes | str, game: GameInfo) -> tuple[NDArray[Any], list[dict[str, Any]]]:
    """The observations (one row per agent, a read-only view on ``data``) and infos from a
    ``reset`` answer."""
    message = _expect(data, "reset", game)
    return _obs(message, game), _infos(message, game)


def parse_step_reply(data: bytes | str, game: GameInfo) -> StepReply:
    """Validates a ``step`` answer (without copying its arrays)."""
    message = _expect(data, "step", game)
    return StepReply(_obs(message, game), _rows(message, "reward", game, _REWARD_DTYPES),
                     _rows(message, "terminated", game, _BOOL_DTYPES),
                     _rows(message, "truncated", game, _BOOL_DTYPES), _infos(message, game))


def _expect(data: bytes | str, kind: str, game: GameInfo) -> Message:
    try:
        message = decode(data)
    except ProtocolError as e:
        raise ProtocolError(f"{game.path}: {e}") from None
    if message.type != kind:
        raise ProtocolError(f"{game.path}: answered {kind!r} with {message.type!r}")
    return message


def _obs(message: Message, game: GameInfo) -> NDArray[Any]:
    space = game.observation_space
    return _rows(message, "obs", game, (space.dtype,), space.shape)


def _rows(message: Message, name: str, game: GameInfo, allowed: tuple[Any, ...],
          shape: tuple[int, ...] | None = ()) -> NDArray[Any]:
    """The array ``name`` of an answer, checked: one of the ``allowed`` dtypes, ``shape`` per agent."""
    array = message.arrays.get(name)
    if array is None:
        raise ProtocolError(f"{game.path}: {message.type} answer has no {name!r} array")
    if array.dtype not in allowed:
        raise ProtocolError(
            f"{game.path}: {name!r} has dtype {array.dtype.name}, expected {' or '.join(d.name for d in allowed)}")
    want = (game.agents, *(shape or ()))
    if array.shape != want:
        raise ProtocolError(f"{game.path}: {name!r} has shape {array.shape}, expected {want} "
                            f"({game.agents} agents)")
    return array


def _infos(message: Message, game: GameInfo) -> list[dict[str, Any]]:
    infos = message.header.get("infos")
    if infos is None:
        return [{} for _ in range(game.agents)]
    if not isinstance(infos, list) or len(infos) != game.agents or not all(isinstance(i, dict) for i in infos):
        raise ProtocolError(f"{game.path}: 'infos' must be a list of {game.agents} objects")
    return infos
