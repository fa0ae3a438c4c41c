"""PettingZoo: one game whose agents act together, as a PettingZoo ``ParallelEnv`` (needs
``pettingzoo``).

    env = wsbridge.pettingzoo.make_parallel_env(["./game", "{hub}", "{slot}", "--agents", "4"])

The game's agents are the PettingZoo agents ``"agent_0"`` ... ``"agent_{K-1}"``. An agent whose
episode ends (terminated, truncated, or its game reconnected) leaves ``env.agents`` as the
parallel API requires; the episode is over when every agent has left, and ``reset()`` starts
the next one. Meanwhile the game is told to reset the agents that left (their answers are
ignored), so it is never asked to step an agent past the end of its episode.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from .hub import Explain, Hub
from .launcher import Launcher, make_hub
from .lockstep import CONNECT_TIMEOUT, Lockstep

__all__ = ["RemoteParallelEnv", "make_parallel_env"]

AgentID = str


class RemoteParallelEnv(ParallelEnv[AgentID, Any, Any]):
    """The game at ``slot`` of ``hub`` as a PettingZoo parallel environment.

    ``close()`` frees the slot, and closes what this environment owns (a hub and the game
    process, when built by :func:`make_parallel_env`).
    """

    metadata: dict[str, Any] = {"name": "wsbridge", "render_modes": [], "is_parallelizable": True}

    def __init__(self, hub: Hub, slot: str | int = "0", *, connect_timeout: float | None = CONNECT_TIMEOUT,
                 progress: bool = True, on_lost: str = "raise",
                 explain: Explain | None = None) -> None:
        self._game = Lockstep(hub, [str(slot)], connect_timeout=connect_timeout, progress=progress,
                              on_lost=on_lost, explain=explain)
        self.possible_agents = [f"agent_{i}" for i in range(self._game.num_agents)]
        self.agents: list[AgentID] = []
        self.observation_spaces = {a: self._game.observation_space for a in self.possible_agents}
        self.action_spaces = {a: self._game.action_space for a in self.possible_agents}
        self.render_mode = None
        self._live = np.zeros(self._game.num_agents, dtype=np.bool_)
        self._owned: list[Callable[[], None]] = []

    def observation_space(self, agent: AgentID) -> spaces.Space[Any]:
        return self.observation_spaces[agent]

    def action_space(self, agent: AgentID) -> spaces.Space[Any]:
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[AgentID, Any], dict[AgentID, dict[str, Any]]]:
        seeds = [None if seed is None else seed + i for i in range(self._game.num_agents)]
        obs, infos = self._game.reset(seeds, options)
        self._live[:] = ~self._game.needs_reset  # the agents of a lost game do not play
        self.agents = [a for a, live in zip(self.possible_agents, self._live) if live]
        return ({a: obs[i].copy() for i, a in enumerate(self.possible_agents) if self._live[i]},
                {a: dict(infos[i]) for i, a in enumerate(self.possible_agents) if self._live[i]})

    def step(self, actions: dict[AgentID, Any]) -> tuple[dict[AgentID, Any], dict[AgentID, float],
                                                           dict[AgentID, bool], dict[AgentID, bool],
                                                           dict[AgentID, dict[str, Any]]]:
        if not self.agents:
            raise RuntimeError("every agent has finished its episode: call reset()")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"no action for {', '.join(missing)}")
        space = self._game.action_space
        batch = np.zeros((self._game.num_agents, *(space.shape or ())), dtype=space.dtype)
        for i, agent in enumerate(self.possible_agents):
            if self._live[i]:
                batch[i] = actions[agent]
        obs, reward, terminated, truncated, infos = self._game.step(batch, ~self._live)
        playing = [(i, a) for i, a in enumerate(self.possible_agents) if self._live[i]]
        result = ({a: obs[i].copy() for i, a in playing}, {a: float(reward[i]) for i, a in playing},
                  {a: bool(terminated[i]) for i, a in playing}, {a: bool(truncated[i]) for i, a in playing},
                  {a: dict(infos[i]) for i, a in playing})
        self._live &= ~(terminated | truncated)
        self.agents = [a for a, live in zip(self.possible_agents, self._live) if live]
        return result

    def state(self) -> np.ndarray[Any, Any]:
        raise NotImplementedError("wsbridge games have no global state")

    def close(self) -> None:
        self._game.close()
        owned, self._owned = self._owned, []
        for close in owned:
            close()


def make_parallel_env(command: Sequence[str] | None = None, *, log_dir: str | os.PathLike[str] | None = None,
                      max_restarts: int = 3, connect_timeout: float | None = CONNECT_TIMEOUT, progress: bool = True,
                      on_lost: str = "raise", **hub_kwargs: Any) -> RemoteParallelEnv:
    """A :class:`RemoteParallelEnv` on a hub of its own with one slot (``"0"``), and the game
    launched from ``command`` (else one launched by someone else); ``close()`` stops both."""
    hub = make_hub(1, **hub_kwargs)
    launcher = None
    try:
        if command is not None:
            launcher = Launcher(command, hub, log_dir=log_dir, max_restarts=max_restarts)
        env = RemoteParallelEnv(hub, "0", connect_timeout=connect_timeout, progress=progress, on_lost=on_lost,
                                explain=launcher.explain if launcher is not None else None)
    except BaseException:
        if launcher is not None:
            launcher.close()
        hub.close()
        raise
    if launcher is not None:
        env._owned.append(launcher.stop_restarting)
    env._owned.append(hub.close)
    if launcher is not None:
        env._owned.append(launcher.close)
    return env
