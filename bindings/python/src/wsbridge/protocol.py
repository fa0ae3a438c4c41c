"""The env protocol's messages (``docs/protocol.md``): hello, reset and step, and close codes."""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import ProtocolError
from gymnasium import spaces

from .spaces import MAX_SPACE_DIMS, MAX_SPACE_ELEMENTS, Space, space_bytes, space_from_json
from .wire import _LENGTH, DTYPES, Message, decode, encode, wire_dtype_name

__all__ = ["AUTORESET_MODES", "StepDecoder", "StepEncoder", "MAX_SETTINGS_BYTES", "PROTOCOL_VERSION", "CloseCode", "engine_settings",
           "parse_settings_reply", "settings_request", "GameInfo", "HelloLimits", "StepReply", "parse_hello",
           "parse_reset_reply", "parse_step_reply", "reset_request", "step_request"]

#: The protocol version this package speaks (the ``protocol`` key of ``hello``).
PROTOCOL_VERSION = 1

#: The autoreset modes of the protocol (``docs/protocol.md``, *Autoreset modes*): a game's hello
#: lists those it answers (``"autoreset"``, default ``["next_step"]``); a ``step`` request names
#: the one it uses (``"autoreset"``, default ``"next_step"``).
AUTORESET_MODES = ("next_step", "same_step")

#: Seeds travel as JSON integers in ``[0, 2**63)``.
MAX_SEED = 2**63

#: An agent's ``infos`` object may nest this deep and hold this many keys and items in all.
MAX_INFO_DEPTH = 16
MAX_INFO_ITEMS = 1024
#: The longest game ``name`` a hello may give (printable characters only: it goes into logs).
MAX_NAME = 256

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
    #: Missing or wrong token. No longer sent: the hub answers HTTP 401 before the upgrade.
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
    #: The autoreset modes the game answers (its hello's ``autoreset``; old games: next_step).
    autoreset: tuple[str, ...] = ("next_step",)
    #: Whether the game accepts ``settings`` messages (its hello's ``settings``).
    settings: bool = False

    def same_game(self, other: GameInfo) -> bool:
        """Whether ``other`` declares the same agents and spaces (a valid reconnection)."""
        return self.difference(other) is None

    def difference(self, other: GameInfo) -> str | None:
        """The first of ``agents``, ``observation_space``, ``action_space`` in which ``other``
        differs, as "'key' is X, not Y" (``other``'s value first); ``None`` if they agree."""
        for key in ("agents", "observation_space", "action_space"):
            mine, theirs = getattr(self, key), getattr(other, key)
            if mine != theirs:
                return f"{key!r} is {theirs}, not {mine}"
        return None


@dataclass(frozen=True)
class HelloLimits:
    """What a ``hello`` may declare; checked before anything is allocated from it (the
    :class:`~wsbridge.Hub` arguments of the same names)."""

    #: Agents in one game.
    max_agents: int = 4096
    #: Dimensions of a space's shape.
    max_space_dims: int = MAX_SPACE_DIMS
    #: Numbers in one sample of a space (a box's elements).
    max_space_elements: int = MAX_SPACE_ELEMENTS
    #: Bytes of one game's observations (agents x the observation space's bytes).
    max_observation_bytes: int = 16 * 2**20


@dataclass(frozen=True)
class StepReply:
    """One game's answer to ``step``: one row per agent. The arrays are read-only views on the
    received message (``reward`` float32 or float64): copy what you keep.

    In a same-step answer, ``obs`` and ``infos`` of the agents whose episode ended are their new
    episodes' first observation and reset infos; ``final_obs`` and ``final_infos`` have one entry
    per such agent, in agent order: the ended episodes' last observation and step infos."""

    obs: Any  # an array; for a dict or tuple space, a dict or tuple of arrays
    reward: NDArray[np.floating[Any]]
    terminated: NDArray[np.bool_]
    truncated: NDArray[np.bool_]
    infos: list[dict[str, Any]]
    final_obs: Any = None
    final_infos: list[dict[str, Any]] | None = None


def parse_hello(data: bytes | str, *, slot: str, path: str, address: str, connection: int,
                limits: HelloLimits = HelloLimits()) -> GameInfo:
    """Validates a game's first message against ``limits``; raises :class:`ProtocolError`
    naming the key that is wrong."""
    message = decode(data)
    if message.type != "hello":
        raise ProtocolError(f"the first message must be 'hello', not {message.type!r:.40}")
    h = message.header
    version = h.get("protocol")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {version!r:.40} is not supported (this hub speaks {PROTOCOL_VERSION})")
    agents = h.get("agents")
    if type(agents) is not int or agents < 1:
        raise ProtocolError(f"hello: 'agents' must be a positive integer, not {agents!r:.40}")
    if agents > limits.max_agents:
        raise ProtocolError(f"hello: 'agents' is {agents}, more than the hub's max_agents ({limits.max_agents})")
    name = h.get("name", "")
    if not isinstance(name, str) or len(name) > MAX_NAME or not name.isprintable():
        raise ProtocolError(f"hello: 'name' must be a string of at most {MAX_NAME} printable characters, "
                            f"not {name!r:.40}")
    observation_space, action_space = (
        space_from_json(h.get(key), key, max_dims=limits.max_space_dims, max_elements=limits.max_space_elements,
                        composite=key == "observation_space")
        for key in ("observation_space", "action_space"))
    size = agents * space_bytes(observation_space)
    if size > limits.max_observation_bytes:
        raise ProtocolError(f"hello: 'observation_space' x {agents} agents is {size} bytes, more than the hub's "
                            f"max_observation_bytes ({limits.max_observation_bytes})")
    modes = h.get("autoreset", ["next_step"])
    if (not isinstance(modes, list) or not 1 <= len(modes) <= len(AUTORESET_MODES)
            or not all(m in AUTORESET_MODES for m in modes) or "next_step" not in modes):
        raise ProtocolError(f"hello: 'autoreset' must list the modes the game answers, among "
                            f"{list(AUTORESET_MODES)} and with 'next_step', not {modes!r:.80}")
    settings = h.get("settings", False)
    if type(settings) is not bool:
        raise ProtocolError(f"hello: 'settings' must be true or false, not {settings!r:.40}")
    return GameInfo(slot, path, name, agents, observation_space, action_space, address, connection,
                    tuple(m for m in AUTORESET_MODES if m in modes), settings)


#: The largest engine settings message (JSON bytes) the package sends.
MAX_SETTINGS_BYTES = 64 * 1024


def engine_settings(time_scale: float | None = None, target_frame_rate: int | None = None,
                    quality_level: int | None = None, **custom: Any) -> dict[str, Any]:
    """The ``settings`` object of an engine settings message (``docs/protocol.md``, *Engine
    settings*), checked: ``time_scale`` a number > 0, ``target_frame_rate`` an integer (-1:
    unlimited), ``quality_level`` an integer >= 0; ``custom`` keys are the game's own (JSON
    values). Raises ``ValueError`` naming the bad key."""
    settings: dict[str, Any] = {}
    if time_scale is not None:
        if isinstance(time_scale, bool) or not isinstance(time_scale, (int, float)) or not 0 < time_scale < math.inf:
            raise ValueError(f"time_scale must be a finite number > 0, not {time_scale!r:.40}")
        settings["time_scale"] = float(time_scale)
    if target_frame_rate is not None:
        if type(target_frame_rate) is not int or target_frame_rate < -1 or target_frame_rate == 0:
            raise ValueError(f"target_frame_rate must be a positive integer or -1 (unlimited), "
                             f"not {target_frame_rate!r:.40}")
        settings["target_frame_rate"] = target_frame_rate
    if quality_level is not None:
        if type(quality_level) is not int or quality_level < 0:
            raise ValueError(f"quality_level must be an integer >= 0, not {quality_level!r:.40}")
        settings["quality_level"] = quality_level
    settings.update(custom)
    try:
        size = len(json.dumps(settings, allow_nan=False))
    except (TypeError, ValueError) as e:
        raise ValueError(f"engine settings must be JSON values: {e}") from None
    if size > MAX_SETTINGS_BYTES:
        raise ValueError(f"engine settings are {size} bytes of JSON, more than {MAX_SETTINGS_BYTES}")
    return settings


def settings_request(settings: Mapping[str, Any]) -> str | bytes:
    """An engine ``settings`` message (checked by :func:`engine_settings`)."""
    return encode("settings", {"settings": dict(settings)})


def parse_settings_reply(data: bytes | str, game: GameInfo) -> None:
    """Checks a game's acknowledgement of engine settings."""
    _expect(data, "settings", game)


def reset_request(seeds: Sequence[int | None], options: Mapping[str, Any] | None) -> str | bytes:
    """A ``reset`` request; ``seeds`` has one entry per agent."""
    return encode("reset", {"seeds": list(seeds), "options": dict(options or {})})


def step_request(actions: NDArray[Any], reset: NDArray[np.bool_], action_dtype: np.dtype[Any],
                 same_step: bool = False) -> str | bytes:
    """A ``step`` request: ``actions`` has one row per agent, sent as ``action_dtype`` (the
    action space's :func:`~wsbridge.spaces.action_wire_dtype`); ``reset`` flags agents to reset.
    ``same_step`` asks the game for same-step autoreset (only of a game whose hello offers it)."""
    return encode("step", {"autoreset": "same_step"} if same_step else None, arrays={
        "action": np.asarray(actions).astype(action_dtype, copy=False),
        "reset": np.asarray(reset, dtype=np.bool_),
    })


class StepEncoder:
    """The ``step`` requests of many games at once, byte for byte those of :func:`step_request`:
    the actions and reset flags of all agents are converted once, and each game's message is its
    header (built once per number of agents) followed by its rows of those bytes."""

    def __init__(self, action_dtype: np.dtype[Any], action_shape: tuple[int, ...], same_step: bool) -> None:
        self._dtype = DTYPES[wire_dtype_name(action_dtype)]
        self._shape = action_shape
        self._row = self._dtype.itemsize * math.prod(action_shape)
        self._fields = {"autoreset": "same_step"} if same_step else None
        self._headers: dict[int, bytes] = {}

    def _header(self, agents: int) -> bytes:
        header = self._headers.get(agents)
        if header is None:
            sample = encode("step", self._fields, arrays={"action": np.zeros((agents, *self._shape), self._dtype),
                                                          "reset": np.zeros(agents, np.bool_)})
            assert isinstance(sample, bytes)
            (length,) = _LENGTH.unpack_from(sample)
            header = self._headers[agents] = sample[:_LENGTH.size + length]
        return header

    def encode(self, actions: NDArray[Any], reset: NDArray[np.bool_], rows: Sequence[slice]) -> list[bytes]:
        """One message per game; ``rows[i]`` are game i's agents (rows of ``actions``, ``reset``)."""
        action = np.ascontiguousarray(actions, dtype=self._dtype).tobytes()
        flags = np.ascontiguousarray(reset, dtype=np.bool_).tobytes()
        row = self._row
        out = []
        for r in rows:
            agents = r.stop - r.start
            a = action[r.start * row:r.stop * row]
            out.append(b"".join((self._header(agents), a, bytes(-len(a) % 8), flags[r.start:r.stop],
                                 bytes(-agents % 8))))
        return out


#: What :meth:`StepDecoder.take` returns for an answer it leaves to the full parse.
NOT_TAKEN = False


class StepDecoder:
    """Reads the ``step`` answers of many games (one plain observation space: not a dict or
    tuple) into one set of arrays, without building a message per answer.

    The first answer of a game of K agents is validated in full by :func:`parse_step_reply` (the
    caller's slow path), and :meth:`learn` keeps the layout of its arrays. A later answer whose
    header bytes were seen before without infos (the usual step answer) only has its payload
    length checked and its arrays copied; one with infos has its header parsed (one
    ``json.loads``), its arrays' description compared with the known one and its infos checked
    as :func:`parse_step_reply` checks them. Anything else (final observations, another layout,
    a reward that is not float64, anything wrong) is left to the full parse."""

    #: At most this many headers are remembered (a game cannot grow the cache without bound).
    MAX_LAYOUTS = 64

    def __init__(self, observation_space: Space, same_step: bool) -> None:
        self.obs_dtype: np.dtype[Any] = np.dtype(observation_space.dtype)
        self.obs_shape: tuple[int, ...] = tuple(observation_space.shape or ())
        self._obs_row = self.obs_dtype.itemsize * math.prod(self.obs_shape)
        self._same_step = same_step
        #: header bytes without infos -> agents; agents -> (the arrays' description, obs,
        #: reward, terminated, truncated offsets, payload bytes needed)
        self._headers: dict[bytes, int] = {}
        self._layouts: dict[int, tuple[dict[str, Any], int, int, int, int, int]] = {}

    def take(self, data: bytes, agents: int, first: int, obs: memoryview, reward: memoryview,
             terminated: memoryview, truncated: memoryview) -> list[dict[str, Any]] | None | bool:
        """Copies a game's answer into rows ``first`` ... ``first + agents`` of the byte views of
        the batch's arrays (``reward`` float64). Returns the answer's infos (``None``: none), or
        :data:`NOT_TAKEN` if this answer needs the full parse."""
        if len(data) < 4:
            return NOT_TAKEN
        (length,) = _LENGTH.unpack_from(data)
        start = 4 + length
        key = data[4:start]
        infos = None
        if self._headers.get(key) != agents:
            layout = self._layouts.get(agents)
            if layout is None or len(data) < start:
                return NOT_TAKEN
            try:
                header = json.loads(key)
            except (ValueError, RecursionError):
                return NOT_TAKEN
            if (type(header) is not dict or header.get("type") != "step" or header.get("arrays") != layout[0]
                    or "final_infos" in header):
                return NOT_TAKEN
            infos = header.get("infos")
            if infos is None:
                if len(self._headers) < self.MAX_LAYOUTS:
                    self._headers[key] = agents
            elif (type(infos) is not list or len(infos) != agents
                  or not all(type(i) is dict and (not i or _info_fits(i)) for i in infos)):
                return NOT_TAKEN
        layout = self._layouts[agents]
        _, o, r, te, tr, size = layout
        if len(data) < start + size:
            return NOT_TAKEN
        if self._same_step and data.count(0, start + te, start + te + agents) + data.count(
                0, start + tr, start + tr + agents) != 2 * agents:
            return NOT_TAKEN  # an episode ended: its final observation comes from the full parse
        last = first + agents
        view = memoryview(data)
        row = self._obs_row
        obs[first * row:last * row] = view[start + o:start + o + agents * row]
        reward[first * 8:last * 8] = view[start + r:start + r + agents * 8]
        terminated[first:last] = view[start + te:start + te + agents]
        truncated[first:last] = view[start + tr:start + tr + agents]
        return infos

    def learn(self, data: bytes, agents: int) -> None:
        """Remembers the layout of ``data``, an answer of ``agents`` agents that
        :func:`parse_step_reply` has just accepted, if answers like it can take the fast path
        (the four arrays of a step, a float64 reward, no final observations)."""
        if agents in self._layouts:
            return
        (length,) = _LENGTH.unpack_from(data)
        header = json.loads(data[4:4 + length])
        arrays = header.get("arrays", {})
        if (set(arrays) != {"obs", "reward", "terminated", "truncated"} or "final_infos" in header
                or arrays["reward"]["dtype"] != "float64"):
            return
        offsets = [arrays[name]["offset"] for name in ("obs", "reward", "terminated", "truncated")]
        sizes = [agents * self._obs_row, agents * 8, agents, agents]
        size = max(o + n for o, n in zip(offsets, sizes))
        self._layouts[agents] = (arrays, offsets[0], offsets[1], offsets[2], offsets[3], size)


def parse_reset_reply(data: bytes | str, game: GameInfo) -> tuple[Any, list[dict[str, Any]]]:
    """The observations (one row per agent, a read-only view on ``data``) and infos from a
    ``reset`` answer."""
    message = _expect(data, "reset", game)
    return _obs(message, game), _infos(message, game)


def parse_step_reply(data: bytes | str, game: GameInfo, same_step: bool = False) -> StepReply:
    """Validates a ``step`` answer (without copying its arrays); ``same_step``: the answer to a
    same-step request, with the final observations and infos of the episodes that ended."""
    message = _expect(data, "step", game)
    terminated = _rows(message, "terminated", game, _BOOL_DTYPES)
    truncated = _rows(message, "truncated", game, _BOOL_DTYPES)
    reply = StepReply(_obs(message, game), _rows(message, "reward", game, _REWARD_DTYPES), terminated, truncated,
                      _infos(message, game))
    if not same_step:
        return reply
    ended = int(np.count_nonzero(terminated | truncated))
    if ended == 0 and not any(name.split(".")[0] == "final_obs" for name in message.arrays):
        return replace(reply, final_obs=None, final_infos=[])
    final_obs = _obs_tree(message, game, game.observation_space, "final_obs", ended)
    final_infos = message.header.get("final_infos")
    if final_infos is None:
        final_infos = [{} for _ in range(ended)]
    elif (not isinstance(final_infos, list) or len(final_infos) != ended
          or not all(isinstance(i, dict) for i in final_infos)):
        raise ProtocolError(f"{game.path}: 'final_infos' must be a list of {ended} objects (one per agent whose "
                            "episode ended)")
    for info in final_infos:
        _check_info(info, game)
    return replace(reply, final_obs=final_obs, final_infos=final_infos)


def _expect(data: bytes | str, kind: str, game: GameInfo) -> Message:
    try:
        message = decode(data)
    except ProtocolError as e:
        raise ProtocolError(f"{game.path}: {e}") from None
    if message.type != kind:
        raise ProtocolError(f"{game.path}: answered {kind!r} with {message.type!r}")
    return message


def _obs(message: Message, game: GameInfo) -> Any:
    return _obs_tree(message, game, game.observation_space, "obs", None)


def _obs_tree(message: Message, game: GameInfo, space: Space, name: str, count: int | None) -> Any:
    """The observation arrays of an answer: one array for a plain space; for a dict or tuple
    space a dict or tuple of the arrays ``obs.<path>`` (docs/protocol.md, *Dict and tuple
    observations*). ``count`` rows (default: one per agent)."""
    if isinstance(space, spaces.Dict):
        return {key: _obs_tree(message, game, sub, f"{name}.{key}", count) for key, sub in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(_obs_tree(message, game, sub, f"{name}.{i}", count) for i, sub in enumerate(space.spaces))
    return _rows(message, name, game, (space.dtype,), space.shape, count)


def _rows(message: Message, name: str, game: GameInfo, allowed: tuple[Any, ...],
          shape: tuple[int, ...] | None = (), count: int | None = None) -> NDArray[Any]:
    """The array ``name`` of an answer, checked: one of the ``allowed`` dtypes, ``shape`` per
    row, one row per agent (or ``count`` rows: the final observations of a same-step answer)."""
    array = message.arrays.get(name)
    if array is None:
        raise ProtocolError(f"{game.path}: {message.type} answer has no {name!r} array")
    if array.dtype not in allowed:
        raise ProtocolError(
            f"{game.path}: {name!r} has dtype {array.dtype.name}, expected {' or '.join(d.name for d in allowed)}")
    want = (game.agents if count is None else count, *(shape or ()))
    if array.shape != want:
        rows = f"{game.agents} agents" if count is None else f"one row per agent whose episode ended: {count}"
        raise ProtocolError(f"{game.path}: {name!r} has shape {array.shape}, expected {want} ({rows})")
    return array


def _infos(message: Message, game: GameInfo) -> list[dict[str, Any]]:
    infos = message.header.get("infos")
    if infos is None:
        return [{} for _ in range(game.agents)]
    if not isinstance(infos, list) or len(infos) != game.agents or not all(isinstance(i, dict) for i in infos):
        raise ProtocolError(f"{game.path}: 'infos' must be a list of {game.agents} objects")
    for info in infos:
        _check_info(info, game)
    return infos


def _check_info(info: dict[str, Any], game: GameInfo) -> None:
    """An agent's info is bounded: gymnasium's vector info merging recurses into it and makes an
    array per key."""
    if info and not _info_fits(info):
        raise ProtocolError(f"{game.path}: 'infos' of an agent nest deeper than {MAX_INFO_DEPTH} or hold more "
                            f"than {MAX_INFO_ITEMS} keys and items")


def _info_fits(info: dict[str, Any]) -> bool:
    """Whether an agent's info nests at most MAX_INFO_DEPTH deep and holds at most
    MAX_INFO_ITEMS keys and items."""
    items = 0
    stack: list[tuple[Any, int]] = [(info, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        items += len(children)
        if depth > MAX_INFO_DEPTH or items > MAX_INFO_ITEMS:
            return False
        stack += [(c, depth + 1) for c in children if isinstance(c, (dict, list))]
    return True
