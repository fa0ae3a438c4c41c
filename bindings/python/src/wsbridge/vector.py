"""``RemoteVectorEnv``: every agent of many games as one ``gymnasium.vector.VectorEnv``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from numpy.typing import NDArray

from .hub import DEFAULT, Explain, Hub, _Default
from .lockstep import CONNECT_TIMEOUT, Lockstep
from .protocol import engine_settings

__all__ = ["RemoteVectorEnv"]


class RemoteVectorEnv(VectorEnv[NDArray[Any], NDArray[Any], NDArray[Any]]):
    """The games connected to a :class:`Hub` as one vector environment.

    Sub-environment ``i`` is the ``i``-th agent, counting the agents of the games in slot order
    (all slots of the hub, or those given in ``slots``): 8 games of 2 agents make
    ``num_envs == 16``. Every :meth:`step` is one message to and from every game, in parallel.

    Autoreset is gymnasium's ``NEXT_STEP`` mode by default (``metadata["autoreset_mode"]``):
    after an agent's episode ends, its next action is ignored and that step returns its first
    observation of the new episode, reward 0, ``terminated`` and ``truncated`` false. The reset
    travels inside the step message, so it costs no extra round trip. With
    ``autoreset_mode=AutoresetMode.SAME_STEP`` (games whose hello offers it: a wsbridge game
    declares ``"partial_reset": true``; others are refused with ``ValueError``) the step that
    ends an episode already returns the new episode's first observation, with the last one in
    ``info["final_obs"]`` and its infos in ``info["final_info"]``: no junk step, and still one
    round trip.

    ``reset(seed=s)`` seeds agent ``i`` with ``s + i`` (or takes a list of seeds), like
    gymnasium's own vector environments. If a game reconnects during :meth:`step`, its agents'
    episodes end as truncated with ``info["wsbridge_reconnected"]`` set, and restart on the
    next step (with ``SAME_STEP``: at once, in that step, one more round trip to that game).
    A game gone for longer than ``reconnect_timeout`` raises :class:`~wsbridge.GameLostError`
    (``on_lost="raise"``) or is dropped until it comes back (``on_lost="drop"``: its agents
    are truncated with ``info["wsbridge_lost"]`` on every step meanwhile). :meth:`step_async`
    and :meth:`step_wait` split a step so the games simulate while the caller computes.
    :attr:`round_trips` keeps the seconds each reset and step took.

    The constructor waits up to ``connect_timeout`` seconds for the games (with a progress
    bar). ``close()`` does not close the hub; it frees the slots, so that games declaring other
    spaces may connect to them again (until then a reconnecting game must declare the same
    agents and spaces, or it is refused with 4400).
    """

    def __init__(self, hub: Hub, slots: Sequence[str | int] | None = None, *,
                 connect_timeout: float | None = CONNECT_TIMEOUT, progress: bool = True, on_lost: str = "raise",
                 reconnect_timeout: float | None | _Default = DEFAULT, explain: Explain | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP) -> None:
        chosen = list(hub.slots) if slots is None else [str(s) for s in slots]
        # --- autoreset mode (docs/protocol.md, *Autoreset modes*) ---
        mode = AutoresetMode(autoreset_mode)
        if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
            raise ValueError(f"autoreset_mode {mode} is not offered (NEXT_STEP or SAME_STEP)")
        self._games = Lockstep(hub, chosen, connect_timeout=connect_timeout, progress=progress, on_lost=on_lost,
                               reconnect_timeout=reconnect_timeout, explain=explain,
                               same_step=mode == AutoresetMode.SAME_STEP)
        # --- end of autoreset mode ---
        self.num_envs = self._games.num_agents
        self.single_observation_space = self._games.observation_space
        self.single_action_space = self._games.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.metadata = {"autoreset_mode": mode, "render_modes": []}
        self._autoreset = np.zeros(self.num_envs, dtype=np.bool_)
        #: What :meth:`close` closes after the environment itself (a launcher, a hub it owns).
        self._owned: list[Callable[[], None]] = []
        self._agent_infos: list[dict[str, Any]] = []
        #: The :class:`~wsbridge.Launcher` of the games, if this environment launched them.
        self.launcher: Any = None

    @property
    def hub(self) -> Hub:
        """The hub serving the games."""
        return self._games.hub

    @property
    def lost(self) -> list[str]:
        """The URL paths of the games dropped (``on_lost="drop"``) and not back yet."""
        return [self._games.games[g].path for g in sorted(self._games.lost)]

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
        obs, self._agent_infos = self._games.reset(seeds, options)
        self._autoreset = self._games.needs_reset.copy()  # lost games' agents stay to be reset
        infos = self._agent_infos
        return obs, self._vector_info(infos)

    def step(self, actions: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.float64], NDArray[np.bool_],
                                                   NDArray[np.bool_], dict[str, Any]]:
        self.step_async(actions)
        return self.step_wait()

    def step_async(self, actions: NDArray[Any]) -> None:
        """Sends ``actions`` to the games and returns at once; :meth:`step_wait` collects the
        results. The games simulate while the caller computes (its next batch of policy
        inference, a learner update), as Stable-Baselines3's ``VecEnv`` and gymnasium's
        ``AsyncVectorEnv`` do."""
        if self._games.same_step:  # autoreset mode: only agents of a game that broke the protocol or was dropped
            self._games.send(actions, self._games.needs_reset.copy())
        else:
            self._games.send(actions, self._autoreset)

    def step_wait(self) -> tuple[NDArray[Any], NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_],
                                 dict[str, Any]]:
        """The results of the step started by :meth:`step_async` (what :meth:`step` returns)."""
        obs, reward, terminated, truncated, self._agent_infos = self._games.receive()
        self._autoreset = terminated | truncated
        return obs, reward, terminated, truncated, self._vector_info(self._agent_infos)

    def restart_finished(self) -> tuple[NDArray[Any], list[dict[str, Any]]]:
        """Starts the next episode, now, of every agent whose episode ended on the last step,
        instead of on the next step (``NEXT_STEP`` autoreset): one extra round trip to those
        games only. Returns every agent's observation (the new first ones in the restarted
        rows) and per-agent reset infos. The next :meth:`step` then steps every agent.

        Every agent of a game must have finished for it to be restarted (``ValueError``
        otherwise): use it with one agent per game. This is what the Stable-Baselines3 adapter
        uses to hand SB3 no junk transition when the games do not offer same-step autoreset.

        With ``autoreset_mode=AutoresetMode.SAME_STEP`` there is nothing to restart (the step
        already did): it is a no-op that returns the current observations and empty infos,
        without a round trip.
        """
        if self._games.same_step:
            return self._games.restart(np.zeros(self.num_envs, dtype=np.bool_))
        obs, infos = self._games.restart(self._autoreset)
        self._autoreset = self._games.needs_reset.copy()
        return obs, infos

    # --- engine settings (docs/protocol.md, *Engine settings*) ---
    def set_engine_settings(self, time_scale: float | None = None, target_frame_rate: int | None = None,
                            quality_level: int | None = None, **custom: Any) -> None:
        """Sends engine settings to every game (what ML-Agents calls side channels):
        ``time_scale`` (simulation speed, > 0), ``target_frame_rate`` (-1: unlimited),
        ``quality_level`` (>= 0) and the game's own keys (JSON values). Waits until every game
        has acknowledged them; a game that reconnects gets them again. Raises ``ValueError`` for
        a bad value or a game that does not accept settings."""
        self._games.set_settings(engine_settings(time_scale, target_frame_rate, quality_level, **custom))
    # --- end of engine settings ---

    def close_extras(self, **kwargs: Any) -> None:
        # gymnasium's __del__ closes an environment whose constructor raised (no game came in
        # time): then there are no games to close, and nothing owned yet.
        games = self.__dict__.get("_games")
        if games is not None:
            games.close()
        owned, self._owned = self.__dict__.get("_owned", []), []
        for close in owned:
            close()

    def _vector_info(self, infos: list[dict[str, Any]]) -> dict[str, Any]:
        vector: dict[str, Any] = {}
        for i, info in enumerate(infos):
            if info:
                vector = self._add_info(vector, info, i)
        return vector

    def __repr__(self) -> str:
        return f"RemoteVectorEnv({self._games.hub.url()}, games={len(self._games.games)}, num_envs={self.num_envs})"
