"""Drives a fixed list of games in lockstep: the logic both gymnasium adapters share.

Agents are numbered across games in slot order: with games of 2 and 3 agents, agents 0-1 live
in the first game and 2-4 in the second. Every call is one round trip to every game, in
parallel.
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from gymnasium import spaces
from gymnasium.vector.utils import create_empty_array

from .errors import GameLostError, ProtocolError
from .hub import DEFAULT, Answer, Explain, Hub, Request, _Default
from .protocol import (MAX_SEED, NOT_TAKEN, CloseCode, GameInfo, StepDecoder, StepEncoder, parse_reset_reply,
                       parse_settings_reply, parse_step_reply, reset_request, settings_request, step_request)
from .spaces import action_wire_dtype, concat_rows, select_row

__all__ = ["CONNECT_TIMEOUT", "ERROR_INFO", "LOST_INFO", "Lockstep", "ON_LOST", "RECONNECTED_INFO"]

#: The info key set (to ``True``) on agents whose episode ended because their game reconnected.
RECONNECTED_INFO = "wsbridge_reconnected"
#: The info key set (to the reason) on agents whose episode ended because their game broke the
#: protocol in its answer to a step (the hub closed it with 4400 and that reason).
ERROR_INFO = "wsbridge_error"

#: The info key set (to ``True``) on agents of a game that was dropped (``on_lost="drop"``): it
#: disconnected and did not come back within the reconnect timeout. Set on every step until it does.
LOST_INFO = "wsbridge_lost"
#: What an environment does with a game that is gone for longer than the reconnect timeout.
ON_LOST = ("raise", "drop")
#: The default seconds an environment waits for its games to connect.
CONNECT_TIMEOUT = 60.0

_Parsed = TypeVar("_Parsed")

logger = logging.getLogger("wsbridge")


class Lockstep:
    """The games at ``slots`` of ``hub``, stepped together.

    Waits (up to ``connect_timeout`` seconds, with a progress bar) for every game to connect,
    and checks that they declare the same observation and action spaces. Until :meth:`close`,
    a game reconnecting to one of these slots must declare the same agents and spaces.
    """

    def __init__(self, hub: Hub, slots: Sequence[str], *, connect_timeout: float | None = CONNECT_TIMEOUT,
                 progress: bool = True, on_lost: str = "raise", reconnect_timeout: float | None | _Default = DEFAULT,
                 explain: Explain | None = None, same_step: bool = False) -> None:
        if not slots:
            raise ValueError("at least one slot is needed")
        if on_lost not in ON_LOST:
            raise ValueError(f"on_lost must be one of {', '.join(map(repr, ON_LOST))}, not {on_lost!r}")
        self.hub = hub
        self.on_lost = on_lost
        self._reconnect = reconnect_timeout
        #: ``explain(slot_ids)``: text about those games to add to errors (a launcher's logs).
        self.explain = explain
        #: Games (indices) dropped after they did not come back (``on_lost="drop"``).
        self.lost: set[int] = set()
        self._pending: tuple[list[int], NDArray[np.bool_], list[int], float,
                             concurrent.futures.Future[list[Answer | BaseException]]] | None = None
        self.games: list[GameInfo] = hub.wait_for_games(slots, timeout=connect_timeout, progress=progress,
                                                        explain=explain)
        first = self.games[0]
        for game in self.games[1:]:
            if (game.observation_space, game.action_space) != (first.observation_space, first.action_space):
                raise ValueError(
                    f"the games at {first.path} and {game.path} declare different spaces: "
                    f"{first.observation_space} / {first.action_space} and "
                    f"{game.observation_space} / {game.action_space}")
        # Same-step autoreset (docs/protocol.md, *Autoreset modes*): every game must offer it.
        old = [g.path for g in self.games if "same_step" not in g.autoreset]
        if same_step and old:
            raise ValueError(
                f"same-step autoreset needs games that offer it in their hello ('autoreset': [..., 'same_step']); "
                f"{', '.join(old)} offer only {self.games[0].autoreset if len(old) == len(self.games) else 'next_step'} "
                "(a wsbridge game declares \"partial_reset\": true in its spec; or use AutoresetMode.NEXT_STEP)")
        self.observation_space = first.observation_space
        self.action_space = first.action_space
        hub._pin(self.games)
        self._pinned: list[GameInfo] | None = list(self.games)
        self._action_dtype = action_wire_dtype(self.action_space)
        #: Whether steps use same-step autoreset (settable before the first step: the SB3 adapter).
        self.same_step = same_step
        bounds = np.cumsum([0] + [g.agents for g in self.games])
        self._rows = [slice(int(a), int(b)) for a, b in zip(bounds, bounds[1:])]
        self.num_agents = int(bounds[-1])
        self._all_games = list(range(len(self.games)))
        #: Each game's latest observations: read-only views on its latest answer, kept for a game
        #: that reconnects during a step (its agents report them again).
        self._last_list: list[Any] | None = None
        #: Agents that must be reset before they may step (not reset on their current connection).
        self.needs_reset = np.ones(self.num_agents, dtype=np.bool_)
        #: The latest engine settings (:meth:`set_settings`), and the games that must get them
        #: again before their next request (they reconnected since).
        self._settings: dict[str, Any] | None = None
        self._settings_due: set[int] = set()
        #: Seconds per round trip (reset or step) as the calling thread saw it, most recent last.
        self.round_trips: collections.deque[float] = collections.deque(maxlen=100_000)
        #: The step path's batched observations (plain spaces: not dict or tuple): the latest
        #: observations of all agents, one array, when the latest step was decoded by the decoder
        #: (then ``_last_list`` is built from it only when something needs per-game rows).
        self._last_array: NDArray[Any] | None = None

    @property
    def same_step(self) -> bool:
        """Whether steps use same-step autoreset."""
        return self._same_step

    @same_step.setter
    def same_step(self, value: bool) -> None:
        self._same_step = value
        # The step path: one encoding of all actions, one array per batch of answers.
        self._encoder = StepEncoder(self._action_dtype, tuple(self.action_space.shape or ()), value)
        plain = not isinstance(self.observation_space, (spaces.Dict, spaces.Tuple))
        self._decoder = StepDecoder(self.observation_space, value) if plain else None

    @property
    def _last_obs(self) -> list[Any] | None:
        """Each game's latest observations (rows of one array after a batched step)."""
        if self._last_array is not None:
            self._last_list = [self._last_array[rows] for rows in self._rows]
            self._last_array = None
        return self._last_list

    @_last_obs.setter
    def _last_obs(self, value: list[Any] | None) -> None:
        self._last_list, self._last_array = value, None

    def reset(self, seeds: Sequence[int | None], options: Mapping[str, Any] | None
              ) -> tuple[Any, list[dict[str, Any]]]:
        """Resets every agent; ``seeds`` has one entry per agent. Returns observations and infos."""
        if len(seeds) != self.num_agents:
            raise ValueError(f"{len(seeds)} seeds for {self.num_agents} agents")
        for s in seeds:
            if s is not None and not (isinstance(s, (int, np.integer)) and 0 <= s < MAX_SEED):
                raise ValueError(f"a seed must be None or an integer in [0, 2**63), not {s!r}")
        if self._pending is not None:
            raise RuntimeError("a step is in flight: call step_wait() before reset()")
        self._readmit()
        obs, infos = self._reset_games([g for g in range(len(self.games)) if g not in self.lost], seeds, options)
        for g in self.lost:  # still gone (on_lost="drop"): their last observation, or zeros
            rows = self._rows[g]
            obs[g] = (self._last_obs[g] if self._last_obs is not None else
                      create_empty_array(self.observation_space, rows.stop - rows.start, fn=np.zeros))
            infos[g] = [{LOST_INFO: True} for _ in range(rows.stop - rows.start)]
        games = range(len(self.games))
        self._last_obs = [obs[g] for g in games]
        self.needs_reset[:] = self._lost_rows()
        return concat_rows(self._last_obs), [info for g in games for info in infos[g]]

    def set_settings(self, settings: Mapping[str, Any]) -> None:
        """Sends engine settings (see :func:`~wsbridge.protocol.engine_settings`) to every game
        and waits for each to acknowledge them; a game that reconnects (or a dropped game that
        comes back) gets them again before its next request. Raises ``ValueError`` if a game
        does not accept settings."""
        if self._pending is not None:
            raise RuntimeError("a step is in flight: call step_wait() before set_settings()")
        refuse = [g.path for g in self.games if not g.settings]
        if refuse:
            raise ValueError(f"{', '.join(refuse)} do not accept engine settings (their hello has no "
                             "'settings': true; wsbridge games built on wsb_env_* do)")
        self._settings = dict(settings)
        self._settings_due = set(range(len(self.games)))
        self._send_settings()

    def _send_settings(self) -> None:
        """Sends the latest settings to the games due for them (lost games get them when back)."""
        while self._settings_due - self.lost:
            assert self._settings is not None
            due = sorted(self._settings_due - self.lost)
            message = settings_request(self._settings)
            answers = self._exchange([Request(self.games[g].slot, self.games[g].connection, message) for g in due])
            for g, answer in zip(due, answers):
                if isinstance(answer, GameInfo):
                    self._reconnected(g, answer)  # still due: sent again on the new connection
                elif isinstance(answer, GameLostError):
                    self._lose(g, answer)  # still due: sent again when it is back
                else:
                    self._check(g, parse_settings_reply, answer)
                    self._settings_due.discard(g)

    def _reset_games(self, games: Sequence[int], seeds: Sequence[int | None], options: Mapping[str, Any] | None
                     ) -> tuple[dict[int, Any], dict[int, list[dict[str, Any]]]]:
        """Resets the games numbered ``games``; ``seeds`` has one entry per agent (all games').
        A game lost on the way (``on_lost="drop"``) is left out of the results."""
        self._send_settings()
        obs: dict[int, Any] = {}
        infos: dict[int, list[dict[str, Any]]] = {}
        pending = [g for g in games if g not in self.lost]
        while pending:  # a game that reconnects during its reset is simply reset again
            requests = [Request(self.games[g].slot, self.games[g].connection,
                                reset_request([None if s is None else int(s) for s in seeds[self._rows[g]]],
                                              options))
                        for g in pending]
            answers = self._exchange(requests)
            retry = []
            for g, answer in zip(pending, answers):
                if isinstance(answer, GameInfo):
                    self._reconnected(g, answer)
                    retry.append(g)
                elif isinstance(answer, GameLostError):
                    self._lose(g, answer)
                else:
                    obs[g], infos[g] = self._check(g, parse_reset_reply, answer)
            pending = retry
        return obs, infos

    def step(self, actions: NDArray[Any], reset: NDArray[np.bool_]
             ) -> tuple[Any, NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_], list[dict[str, Any]]]:
        """:meth:`send` then :meth:`receive`."""
        self.send(actions, reset)
        return self.receive()

    def send(self, actions: NDArray[Any], reset: NDArray[np.bool_]) -> None:
        """Sends a step to every game (or resets the agents flagged in ``reset``), one row per
        agent, and returns without waiting: :meth:`receive` collects the answers.

        The hub's thread sends the requests while the caller goes on (policy inference on the
        previous observations, for instance), so the games simulate meanwhile. Engine settings
        due to a game (it reconnected since :meth:`set_settings`) go out first, before the step.
        """
        if self._last_list is None and self._last_array is None:
            raise RuntimeError("call reset() before step()")
        if self._pending is not None:
            raise RuntimeError("a step is already in flight: call step_wait() first")
        actions = np.asarray(actions)
        reset = np.asarray(reset, dtype=np.bool_)
        if len(actions) != self.num_agents or reset.shape != (self.num_agents,):
            raise ValueError(f"expected {self.num_agents} actions and reset flags, got {len(actions)} and "
                             f"{reset.shape}")
        readmitted = self._readmit()
        stale = self.needs_reset & ~reset & ~self._lost_rows()
        if stale.any():
            raise RuntimeError(f"agents {np.flatnonzero(stale).tolist()} ended their episode when their game "
                               "reconnected: reset them first")
        self._send_settings()
        live = [g for g in range(len(self.games)) if g not in self.lost] if self.lost else self._all_games
        messages = self._encoder.encode(actions, reset, [self._rows[g] for g in live])
        requests = [Request(self.games[g].slot, self.games[g].connection, message) for g, message in zip(live, messages)]
        start = time.perf_counter()
        self._pending = (live, reset, readmitted, start, self.hub.send(requests, reconnect_timeout=self._reconnect))

    def receive(self) -> tuple[Any, NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_],
                               list[dict[str, Any]]]:
        """Waits for the answers to :meth:`send`.

        Agents of a game that reconnected during the step come back truncated, with reward 0,
        their last observation and ``info[RECONNECTED_INFO] = True``; flag them in ``reset``
        on the next call. So do the agents of a game whose answer broke the protocol, with
        ``info[ERROR_INFO]`` set to the reason: the hub closed that game with 4400, and the
        next step waits for it to reconnect like any dropped game. A game that does not come
        back within the reconnect timeout raises :class:`GameLostError` (``on_lost="raise"``)
        or is dropped (``on_lost="drop"``): its agents come back truncated with
        ``info[LOST_INFO] = True`` on this and every later step, until it reconnects.

        With same-step autoreset (``same_step`` at construction), an agent whose episode ended
        comes back with its new episode's first observation and reset infos, plus
        ``info["final_obs"]`` and ``info["final_info"]`` (the ended episode's last observation
        and infos), as gymnasium's ``SAME_STEP`` mode; a game that reconnected during the step
        is reset at once, here (one more round trip), and reported the same way. Only the
        agents of a game whose answer broke the protocol, and of a dropped game, still need a
        ``reset`` flag on the next call.
        """
        if self._pending is None or (self._last_list is None and self._last_array is None):
            raise RuntimeError("call step_async() before step_wait()")
        live, reset, readmitted, start, future = self._pending
        try:
            results = future.result()
        except BaseException:
            future.cancel()
            raise
        finally:
            self._pending = None
        self.round_trips.append(time.perf_counter() - start)
        same_step = self.same_step
        decoder = self._decoder
        n = self.num_agents
        reward = np.zeros(n, dtype=np.float64)
        terminated = np.zeros(n, dtype=np.bool_)
        truncated = np.zeros(n, dtype=np.bool_)
        # With a plain observation space, the usual answers are copied straight into these arrays
        # (decoder.take); ``obs[g]`` is set only for the games that took another path.
        batch = None if decoder is None else np.empty((n, *decoder.obs_shape), decoder.obs_dtype)
        views = None if batch is None else (batch.data.cast("B"), reward.data.cast("B"), terminated.data.cast("B"),
                                            truncated.data.cast("B"))
        obs: list[Any] = [None] * len(self.games) if batch is not None else list(self._last_obs or ())
        # One empty dict for every agent without infos this step (nothing writes into these
        # dicts: an agent's infos are replaced, never updated in place).
        infos: list[dict[str, Any]] = [{}] * n
        lost_now: list[tuple[int, BaseException]] = []
        reconnected: list[int] = []
        answered = np.zeros(n, dtype=np.bool_)
        fast: list[int] = []  # the games whose answers the decoder took
        for g, answer in zip(live, results):
            rows = self._rows[g]
            if views is not None and type(answer) is bytes and decoder is not None:
                taken = decoder.take(answer, rows.stop - rows.start, rows.start, *views)
                if taken is not NOT_TAKEN:
                    fast.append(g)
                    if isinstance(taken, list):
                        infos[rows] = taken
                    continue
            if isinstance(answer, GameLostError):
                lost_now.append((g, answer))
                continue
            if isinstance(answer, BaseException):
                raise answer
            if isinstance(answer, GameInfo):
                self._reconnected(g, answer)
                truncated[rows] = True
                infos[rows] = [{RECONNECTED_INFO: True} for _ in range(rows.stop - rows.start)]
                reconnected.append(g)
                continue
            try:
                reply = self._check(g, lambda data, game: parse_step_reply(data, game, same_step), answer)
            except ProtocolError as e:  # that game is closed; the others' results stand
                logger.warning("%s", e)
                self.needs_reset[rows] = True
                truncated[rows] = True
                infos[rows] = [{ERROR_INFO: str(e)} for _ in range(rows.stop - rows.start)]
                continue
            if decoder is not None and isinstance(answer, bytes):
                decoder.learn(answer, rows.stop - rows.start)
            obs[g], reward[rows] = reply.obs, reply.reward
            terminated[rows], truncated[rows] = reply.terminated, reply.truncated
            infos[rows] = reply.infos
            if reply.final_obs is not None:  # same-step: the ended episodes' last rows
                assert reply.final_infos is not None
                for m, j in enumerate(np.flatnonzero(reply.terminated | reply.truncated)):
                    infos[rows.start + j] = {**infos[rows.start + j], "final_obs": select_row(reply.final_obs, m),
                                             "final_info": reply.final_infos[m]}
            answered[rows] = True
        if len(fast) == len(self.games):
            answered[:] = True
        else:
            for g in fast:
                answered[self._rows[g]] = True
        for g, error in lost_now:
            self._lose(g, error)
        self.needs_reset &= ~(reset & answered)
        if batch is not None:
            # The games that took another path: their new rows, or their last ones (lost,
            # reconnected, broken: they report their latest observations again).
            previous = self._last_array
            for g in range(len(self.games)):
                rows = self._rows[g]
                if obs[g] is None and not answered[rows.start] and rows.stop > rows.start:
                    obs[g] = previous[rows] if previous is not None else (self._last_list or [])[g]
        if same_step and reconnected:
            # Same-step autoreset: the episodes a reconnection ended restart now.
            fresh, reset_infos = self._reset_games(reconnected, [None] * self.num_agents, None)
            for g in reconnected:
                if g not in fresh:  # lost during that reset (on_lost="drop"): reported below
                    continue
                rows = self._rows[g]
                infos[rows] = [{**new, "final_obs": select_row(obs[g], j), "final_info": info}
                               for j, (new, info) in enumerate(zip(reset_infos[g], infos[rows]))]
                obs[g] = fresh[g]
                self.needs_reset[rows] = False
        for g in self.lost:
            rows = self._rows[g]
            self.needs_reset[rows] = True
            truncated[rows] = True
            infos[rows] = [{LOST_INFO: True} for _ in range(rows.stop - rows.start)]
        for g in readmitted:
            rows = self._rows[g]
            for i in range(rows.start, rows.stop):
                infos[i] = {**infos[i], RECONNECTED_INFO: True}
        if batch is None:
            self._last_obs = obs
            return concat_rows(obs), reward, terminated, truncated, infos  # the one copy of the observations
        for g, rows in enumerate(self._rows):
            if obs[g] is not None:
                batch[rows] = obs[g]
        self._last_obs = None
        self._last_array = batch.copy()  # the caller may write into what it gets
        return batch, reward, terminated, truncated, infos

    def restart(self, agents: NDArray[np.bool_]) -> tuple[NDArray[Any], list[dict[str, Any]]]:
        """Resets, now, every game all of whose agents are flagged in ``agents`` (one round trip
        to those games only, in parallel; as a ``step`` whose ``reset`` flags are all set, so the
        games continue their random streams exactly as next-step autoreset would). Returns the
        observations of all agents (the new first observations in those games' rows) and the
        reset infos (``{}`` for the other agents). Lost games stay as they are.

        A game with some agents flagged and others not raises ``ValueError``: version 1 of the
        protocol cannot reset one agent of a game without stepping the others.
        """
        if self._last_obs is None:
            raise RuntimeError("call reset() before step()")
        if self._pending is not None:
            raise RuntimeError("a step is in flight: call step_wait() first")
        agents = np.asarray(agents, dtype=np.bool_)
        games = []
        for g, rows in enumerate(self._rows):
            flagged = agents[rows]
            if flagged.any() and not flagged.all():
                raise ValueError(f"the game at {self.games[g].path} has agents {np.flatnonzero(~flagged).tolist()} "
                                 "still playing: it can only be restarted when all its agents have finished")
            if flagged.all() and g not in self.lost:
                games.append(g)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_agents)]
        obs = list(self._last_obs)
        while games:
            requests = [Request(self.games[g].slot, self.games[g].connection,
                                step_request(np.zeros((self._rows[g].stop - self._rows[g].start,
                                                       *(self.action_space.shape or ())), self._action_dtype),
                                             np.ones(self._rows[g].stop - self._rows[g].start, np.bool_),
                                             self._action_dtype))
                        for g in games]
            retry = []
            for g, answer in zip(games, self._exchange(requests)):
                if isinstance(answer, GameInfo):  # it reconnected: restart it on its new connection
                    self._reconnected(g, answer)
                    retry.append(g)
                    continue
                if isinstance(answer, GameLostError):
                    self._lose(g, answer)
                    rows = self._rows[g]
                    infos[rows] = [{LOST_INFO: True} for _ in range(rows.stop - rows.start)]
                    continue
                try:
                    reply = self._check(g, parse_step_reply, answer)
                except ProtocolError as e:
                    logger.warning("%s", e)
                    rows = self._rows[g]
                    self.needs_reset[rows] = True
                    infos[rows] = [{ERROR_INFO: str(e)} for _ in range(rows.stop - rows.start)]
                    continue
                obs[g] = reply.obs
                infos[self._rows[g]] = reply.infos
                self.needs_reset[self._rows[g]] = False
            games = retry
        self._last_obs = obs
        return concat_rows(obs), infos

    def agents_per_game(self) -> list[int]:
        """The number of agents of each game, in order."""
        return [rows.stop - rows.start for rows in self._rows]

    def _lose(self, g: int, error: BaseException) -> None:
        """A game did not come back: raise (``on_lost="raise"``), or drop it until it does."""
        message = self._explained(str(error), self.games[g].slot)
        if self.on_lost == "raise":
            raise GameLostError(message) from None
        logger.warning("%s; its agents are dropped (truncated, info %r) until it reconnects", message, LOST_INFO)
        self.lost.add(g)

    def _lost_rows(self) -> NDArray[np.bool_]:
        mask = np.zeros(self.num_agents, dtype=np.bool_)
        for g in self.lost:
            mask[self._rows[g]] = True
        return mask

    def _readmit(self) -> list[int]:
        """Takes back the lost games that have reconnected since (their agents must be reset)."""
        if not self.lost:
            return []
        connected = self.hub.games()
        back = []
        for g in sorted(self.lost):
            game = connected.get(self.games[g].slot)
            if game is not None and game.connection > self.games[g].connection:
                logger.info("game %s is back (connection #%d): its agents play again", game.path, game.connection)
                self._reconnected(g, game)
                self.lost.discard(g)
                back.append(g)
        return back

    def _explained(self, message: str, slot: str) -> str:
        extra = self.explain([slot]).text if self.explain is not None else ""
        return f"{message}; {extra}" if extra else message

    def close(self) -> None:
        """Frees the slots: games with other spaces may connect to them again."""
        if self._pinned is not None:
            self.hub._unpin(self._pinned)
            self._pinned = None

    def _exchange(self, requests: list[Request]) -> list[Answer | GameLostError]:
        """One round trip; a game lost on the way is returned as its :class:`GameLostError`."""
        start = time.perf_counter()
        future = self.hub.send(requests, reconnect_timeout=self._reconnect)
        try:
            results = future.result()
        except BaseException:
            future.cancel()
            raise
        self.round_trips.append(time.perf_counter() - start)
        answers: list[Answer | GameLostError] = []
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, GameLostError):
                raise result
            answers.append(result)
        return answers

    def _reconnected(self, g: int, game: GameInfo) -> None:
        self.games[g] = game
        if self._settings is not None:
            self._settings_due.add(g)
        self.needs_reset[self._rows[g]] = True

    def _check(self, g: int, parse: Callable[[bytes | str, GameInfo], _Parsed], answer: bytes | str) -> _Parsed:
        try:
            return parse(answer, self.games[g])
        except ProtocolError as e:
            game = self.games[g]
            self.hub._drop(game.slot, game.connection, CloseCode.PROTOCOL_VIOLATION, str(e))
            raise
