"""``RemoteEnv``: one game with one agent as a ``gymnasium.Env``."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from .hub import Hub
from .lockstep import CONNECT_TIMEOUT, Lockstep
from .spaces import select_row

__all__ = ["RemoteEnv"]


class RemoteEnv(gym.Env[Any, Any]):
    """The game connected at one slot of a :class:`Hub`, as a single gymnasium environment.

    The game must simulate exactly one agent (use :class:`RemoteVectorEnv` for more). The
    constructor waits up to ``connect_timeout`` seconds for the game to connect.

    If the game reconnects during :meth:`step`, the episode ends as truncated with reward 0,
    the last observation and ``info["wsbridge_reconnected"] = True``: call :meth:`reset`.
    ``close()`` does not close the hub, which may serve other environments.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, hub: Hub, slot: str | int = "0", *, connect_timeout: float | None = CONNECT_TIMEOUT,
                 progress: bool = True) -> None:
        self._games = Lockstep(hub, [str(slot)], connect_timeout=connect_timeout, progress=progress)
        game = self._games.games[0]
        if game.agents != 1:
            self._games.close()  # the slot is free again for another environment or game
            raise ValueError(f"the game at {game.path} simulates {game.agents} agents: use RemoteVectorEnv")
        self.observation_space = self._games.observation_space
        self.action_space = self._games.action_space

    @property
    def game(self) -> str:
        """The URL path of the game this environment drives."""
        return self._games.games[0].path

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        obs, infos = self._games.reset([seed], options)
        return select_row(obs, 0), infos[0]

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, infos = self._games.step(
            np.asarray(action)[np.newaxis], np.zeros(1, dtype=np.bool_))
        return select_row(obs, 0), float(reward[0]), bool(terminated[0]), bool(truncated[0]), infos[0]

    def close(self) -> None:
        """Frees the slot (the hub stays open): a game with other spaces may connect to it again."""
        self._games.close()

    def __repr__(self) -> str:
        return f"RemoteEnv({self._games.hub.url(self._games.games[0].slot)})"
