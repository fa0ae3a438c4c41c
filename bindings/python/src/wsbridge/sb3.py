"""Stable-Baselines3: the games as an SB3 ``VecEnv`` (needs ``stable-baselines3``).

    model = PPO("MlpPolicy", wsbridge.sb3.make_vec_env(["./game", "{hub}", "{slot}"], games=8))

SB3 expects gymnasium's *same-step* autoreset: when an episode ends, ``step_wait`` returns the
new episode's first observation, with the final one in ``infos[i]["terminal_observation"]`` and
``infos[i]["TimeLimit.truncated"]`` set for a time limit. When every game offers the protocol's
same-step autoreset (its hello lists ``"same_step"``: a wsbridge game that declares
``"partial_reset": true``), the adapter steps in that mode (docs/protocol.md, *Autoreset modes*):
the step's own answer carries both observations, so an ended episode costs no extra round trip
and no junk step, and games may have several agents. Otherwise (games that offer only next-step
autoreset) it sends the reset of every game that finished an episode at once, inside
``step_wait`` (:meth:`RemoteVectorEnv.restart_finished`): one extra round trip to those games
only, still no junk transition for the learner, but one agent per game (a game's agents cannot
be reset one by one without stepping the others).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from numpy.typing import NDArray
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

from .launcher import make_vector_env as _make_remote
from .lockstep import CONNECT_TIMEOUT
from .vector import RemoteVectorEnv

__all__ = ["RemoteVecEnv", "make_vec_env"]


class RemoteVecEnv(VecEnv):
    """A :class:`RemoteVectorEnv` as a Stable-Baselines3 ``VecEnv``.

    If every game offers same-step autoreset, ``env`` is switched to it (before its first reset;
    ``env.metadata["autoreset_mode"]`` says so) and games may have any number of agents; else
    each game must have one agent (``ValueError`` otherwise). ``close()`` closes the wrapped
    environment (and what it owns: a hub, launched games).
    """

    def __init__(self, env: RemoteVectorEnv) -> None:
        self.env = env
        games = env._games
        if not games.same_step and all("same_step" in g.autoreset for g in games.games):
            if games._last_obs is not None:
                raise ValueError("hand the environment to the Stable-Baselines3 adapter before its first reset(), "
                                 "or build it with autoreset_mode=AutoresetMode.SAME_STEP")
            games.same_step = True
            env.metadata["autoreset_mode"] = AutoresetMode.SAME_STEP
        #: Whether steps use the protocol's same-step autoreset (else next-step plus a restart).
        self.same_step = games.same_step
        multi = [(path, n) for path, n in zip(env.games, games.agents_per_game()) if n != 1]
        if multi and not self.same_step:
            raise ValueError(f"the Stable-Baselines3 adapter needs one agent per game when the games do not offer "
                             f"same-step autoreset; the game at {multi[0][0]} has {multi[0][1]} agents")
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)

    def reset(self) -> VecEnvObs:
        seeds = self._seeds if any(s is not None for s in self._seeds) else None
        options = self._options[0] if self._options and self._options[0] else None
        obs, _ = self.env.reset(seed=seeds, options=options)
        self.reset_infos = [dict(info) for info in self.env._agent_infos]
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: NDArray[Any]) -> None:
        self.env.step_async(actions)

    def step_wait(self) -> VecEnvStepReturn:
        obs, reward, terminated, truncated, _ = self.env.step_wait()
        if self.same_step:
            return self._same_step(obs, reward, terminated, truncated)
        # As SB3's own DummyVecEnv: the time-limit flag on every step, the final observation on
        # the steps that end an episode.
        infos = [{**info, "TimeLimit.truncated": bool(truncated[i] and not terminated[i])}
                 for i, info in enumerate(self.env._agent_infos)]
        done = terminated | truncated
        if done.any():
            for i in np.flatnonzero(done):
                infos[i]["terminal_observation"] = obs[i].copy()
            obs, reset_infos = self._restart(obs, done)
            for i in np.flatnonzero(done):
                self.reset_infos[i] = reset_infos[i]
        return obs, reward.astype(np.float32), done, infos

    def _same_step(self, obs: NDArray[Any], reward: NDArray[np.float64], terminated: NDArray[np.bool_],
                   truncated: NDArray[np.bool_]) -> VecEnvStepReturn:
        """A same-step answer in SB3's terms: an ended episode's step infos and last observation
        (``final_info``, ``final_obs``) become its infos and ``terminal_observation``; the new
        episode's reset infos go to ``reset_infos``."""
        done = terminated | truncated
        infos: list[dict[str, Any]] = []
        for i, info in enumerate(self.env._agent_infos):
            if done[i] and "final_obs" in info:
                reset_info = dict(info)
                final_obs, step_info = reset_info.pop("final_obs"), reset_info.pop("final_info")
                self.reset_infos[i] = reset_info
                info = {**step_info, "terminal_observation": np.array(final_obs)}
            infos.append({**info, "TimeLimit.truncated": bool(truncated[i] and not terminated[i])})
        return obs, reward.astype(np.float32), done, infos

    def _restart(self, obs: NDArray[Any], done: NDArray[np.bool_]) -> tuple[NDArray[Any], list[dict[str, Any]]]:
        """The first observations of the episodes that start after those ``done``: one extra
        round trip, for games that offer only next-step autoreset."""
        return self.env.restart_finished()

    def close(self) -> None:
        self.env.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        if attr_name == "render_mode":
            value: Any = None
        else:
            value = getattr(self.env, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self.env, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        result = getattr(self.env, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper[Any, Any, Any, Any]],
                       indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def _get_indices(self, indices: VecEnvIndices) -> Iterable[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return list(indices)


def make_vec_env(command: Sequence[str] | None = None, *, games: int | Sequence[str] = 1,
                 log_dir: str | os.PathLike[str] | None = None, max_restarts: int = 3,
                 connect_timeout: float | None = CONNECT_TIMEOUT, progress: bool = True, on_lost: str = "raise",
                 **hub_kwargs: Any) -> RemoteVecEnv:
    """:func:`wsbridge.make_vector_env` (a hub, and the games launched from ``command``, each
    game one agent) as an SB3 ``VecEnv`` that owns them."""
    return RemoteVecEnv(_make_remote(command, games=games, log_dir=log_dir, max_restarts=max_restarts,
                                     connect_timeout=connect_timeout, progress=progress, on_lost=on_lost,
                                     **hub_kwargs))
