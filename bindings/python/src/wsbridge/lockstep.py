"""Drives a fixed list of games in lockstep: the logic both gymnasium adapters share.

Agents are numbered across games in slot order: with games of 2 and 3 agents, agents 0-1 live
in the first game and 2-4 in the second. Every call is one round trip to every game, in
parallel.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from .errors import ProtocolError
from .hub import Answer, Hub, Request
from .protocol import (MAX_SEED, CloseCode, GameInfo, parse_reset_reply, parse_step_reply, reset_request,
                       step_request)
from .spaces import action_wire_dtype

__all__ = ["Lockstep", "RECONNECTED_INFO"]

#: The info key set (to ``True``) on agents whose episode ended because their game reconnected.
RECONNECTED_INFO = "wsbridge_reconnected"

_Parsed = TypeVar("_Parsed")


class Lockstep:
    """The games at ``slots`` of ``hub``, stepped together.

    Waits (up to ``connect_timeout`` seconds, with a progress bar) for every game to connect,
    and checks that they declare the same observation and action spaces.
    """

    def __init__(self, hub: Hub, slots: Sequence[str], *, connect_timeout: float | None = None,
                 progress: bool = True) -> None:
        if not slots:
            raise ValueError("at least one slot is needed")
        self.hub = hub
        self.games: list[GameInfo] = hub.wait_for_games(slots, timeout=connect_timeout, progress=progress)
        first = self.games[0]
        for game in self.games[1:]:
            if (game.observation_space, game.action_space) != (first.observation_space, first.action_space):
                raise ValueError(
                    f"the games at {first.path} and {game.path} declare different spaces: "
                    f"{first.observation_space} / {first.action_space} and "
                    f"{game.observation_space} / {game.action_space}")
        self.observation_space = first.observation_space
        self.action_space = first.action_space
        self._action_dtype = action_wire_dtype(self.action_space)
        bounds = np.cumsum([0] + [g.agents for g in self.games])
        self._rows = [slice(int(a), int(b)) for a, b in zip(bounds, bounds[1:])]
        self.num_agents = int(bounds[-1])
        #: Each game's latest observations: read-only views on its latest answer, kept for a game
        #: that reconnects during a step (its agents report them again).
        self._last_obs: list[NDArray[Any]] | None = None
        #: Agents that must be reset before they may step (not reset on their current connection).
        self.needs_reset = np.ones(self.num_agents, dtype=np.bool_)
        #: Seconds per round trip (reset or step) as the calling thread saw it, most recent last.
        self.round_trips: collections.deque[float] = collections.deque(maxlen=100_000)

    def reset(self, seeds: Sequence[int | None], options: Mapping[str, Any] | None
              ) -> tuple[NDArray[Any], list[dict[str, Any]]]:
        """Resets every agent; ``seeds`` has one entry per agent. Returns observations and infos."""
        if len(seeds) != self.num_agents:
            raise ValueError(f"{len(seeds)} seeds for {self.num_agents} agents")
        for s in seeds:
            if s is not None and not (isinstance(s, (int, np.integer)) and 0 <= s < MAX_SEED):
                raise ValueError(f"a seed must be None or an integer in [0, 2**63), not {s!r}")
        obs: dict[int, NDArray[Any]] = {}
        infos: dict[int, list[dict[str, Any]]] = {}
        pending = list(range(len(self.games)))
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
                else:
                    obs[g], infos[g] = self._check(g, parse_reset_reply, answer)
            pending = retry
        games = range(len(self.games))  # every one of them answered
        self._last_obs = [obs[g] for g in games]
        self.needs_reset[:] = False
        return np.concatenate(self._last_obs), [info for g in games for info in infos[g]]

    def step(self, actions: NDArray[Any], reset: NDArray[np.bool_]
             ) -> tuple[NDArray[Any], NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_], list[dict[str, Any]]]:
        """Steps every agent (or resets those flagged in ``reset``), one row per agent.

        Agents of a game that reconnected during the step come back truncated, with reward 0,
        their last observation and ``info[RECONNECTED_INFO] = True``; flag them in ``reset``
        on the next call.
        """
        if self._last_obs is None:
            raise RuntimeError("call reset() before step()")
        actions = np.asarray(actions)
        reset = np.asarray(reset, dtype=np.bool_)
        if len(actions) != self.num_agents or reset.shape != (self.num_agents,):
            raise ValueError(f"expected {self.num_agents} actions and reset flags, got {len(actions)} and "
                             f"{reset.shape}")
        stale = self.needs_reset & ~reset
        if stale.any():
            raise RuntimeError(f"agents {np.flatnonzero(stale).tolist()} ended their episode when their game "
                               "reconnected: reset them first")
        requests = [Request(game.slot, game.connection, step_request(actions[rows], reset[rows], self._action_dtype))
                    for game, rows in zip(self.games, self._rows)]
        answers = self._exchange(requests)
        obs = list(self._last_obs)
        reward = np.zeros(self.num_agents, dtype=np.float64)
        terminated = np.zeros(self.num_agents, dtype=np.bool_)
        truncated = np.zeros(self.num_agents, dtype=np.bool_)
        infos: list[dict[str, Any]] = []
        for g, (answer, rows) in enumerate(zip(answers, self._rows)):
            if isinstance(answer, GameInfo):
                self._reconnected(g, answer)
                truncated[rows] = True
                infos += [{RECONNECTED_INFO: True} for _ in range(rows.stop - rows.start)]
                continue
            reply = self._check(g, parse_step_reply, answer)
            obs[g], reward[rows] = reply.obs, reply.reward
            terminated[rows], truncated[rows] = reply.terminated, reply.truncated
            infos += reply.infos
        self._last_obs = obs
        self.needs_reset &= ~reset
        return np.concatenate(obs), reward, terminated, truncated, infos  # the one copy of the observations

    def _exchange(self, requests: list[Request]) -> list[Answer]:
        start = time.perf_counter()
        answers = self.hub.exchange(requests)
        self.round_trips.append(time.perf_counter() - start)
        return answers

    def _reconnected(self, g: int, game: GameInfo) -> None:
        self.games[g] = game
        self.needs_reset[self._rows[g]] = True

    def _check(self, g: int, parse: Callable[[bytes | str, GameInfo], _Parsed], answer: bytes | str) -> _Parsed:
        try:
            return parse(answer, self.games[g])
        except ProtocolError as e:
            self.hub.kick(self.games[g].slot, CloseCode.PROTOCOL_VIOLATION, str(e))
            raise
