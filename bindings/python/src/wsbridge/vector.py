"""``RemoteVectorEnv``: every agent of many games as one ``gymnasium.vector.VectorEnv``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from numpy.typing import NDArray

from .hub import Hub
from .lockstep import Lockstep

__all__ = ["RemoteVectorEnv"]


class RemoteVectorEnv(VectorEnv[NDArray[Any], NDArray[Any], NDArray[Any]]):
    """The games connected to a :class:`Hub` as one vector environment.

    Sub-environment ``i`` is the ``i``-th agent, counting the agents of the games in slot order
    (all slots of the hub, or those given in ``slots``): 8 games of 2 agents make
    ``num_envs == 16``. Every :meth:`step` is one message to and from every game, in parallel.

    Autoreset is gymnasium's ``NEXT_STEP`` mode (``metadata["autoreset_mode"]``): after an
    agent's episode ends, its next action is ignored and that step returns its first
    observation of the new episode, reward 0, ``terminated`` and ``truncated`` false. The reset
    travels inside the step message, so it costs no extra round trip.

    ``reset(seed=s)`` seeds agent ``i`` with ``s + i`` (or takes a list of seeds), like
    gymnasium's own vector environments. If a game reconnects during :meth:`step`, its agents'
    episodes end as truncated with ``info["wsbridge_reconnected"]`` set, and restart on the
    next step. :attr:`round_trips` keeps the seconds each reset and step took.

    The constructor waits up to ``connect_timeout`` seconds for the games (with a progress
    bar). ``close()`` does not close the hub.
    """

    def __init__(self, hub: Hub, slots: Sequence[str | int] | None = None, *,
                 connect_timeout: float | None = None, progress: bool = True) -> None:
        chosen = list(hub.slots) if slots is None else [str(s) for s in slots]
        self._games = Lockstep(hub, chosen, connect_timeout=connect_timeout, progress=progress)
        self.num_envs = self._games.num_agents
        self.single_observation_space = self._games.observation_space
        self.single_action_space = self._games.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}
        self._autoreset = np.zeros(self.num_envs, dtype=np.bool_)

    @property
    def round_trips(self) -> Sequence[float]:
        """Seconds per :meth:`reset` and :meth:`step` round trip (all games), most recent last."""
        return self._games.round_trips

    @property
    def games(self) -> list[str]:
        """The URL paths of the games, in sub-environment order."""
        return [g.path for g in self._games.games]

    def reset(self, *, seed: int | Sequence[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[NDArray[Any], dict[str, Any]]:
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, (int, np.integer)):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"{len(seeds)} seeds for {self.num_envs} sub-environments")
        super().reset(seed=seed if isinstance(seed, (int, np.integer)) else None)
        obs, infos = self._games.reset(seeds, options)
        self._autoreset[:] = False
        return obs, self._vector_info(infos)

    def step(self, actions: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.float64], NDArray[np.bool_],
                                                   NDArray[np.bool_], dict[str, Any]]:
        obs, reward, terminated, truncated, infos = self._games.step(actions, self._autoreset)
        self._autoreset = terminated | truncated
        return obs, reward, terminated, truncated, self._vector_info(infos)

    def _vector_info(self, infos: list[dict[str, Any]]) -> dict[str, Any]:
        vector: dict[str, Any] = {}
        for i, info in enumerate(infos):
            if info:
                vector = self._add_info(vector, info, i)
        return vector

    def __repr__(self) -> str:
        return f"RemoteVectorEnv({self._games.hub.url()}, games={len(self._games.games)}, num_envs={self.num_envs})"
