"""Stable-Baselines3 through ``wsbridge.sb3``: the adapter against SB3's own ``DummyVecEnv``
(the reference for ``terminal_observation`` and ``TimeLimit.truncated``), and a short PPO run
on launched games whose return must rise."""

from __future__ import annotations

import time

import numpy as np
import torch
from conftest import GAME
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode
from peers import ScriptedGame
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_checker import check_env
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

import wsbridge
import wsbridge.sb3


def matches_dummy_vec_env(hub_factory, launch, agents: int) -> None:
    """Same seeds and actions: identical observations, rewards, dones and infos (with the final
    observation of every episode and the time-limit flag), 6 agents in games of ``agents``
    through the adapter against 6 one-cart RemoteEnvs in SB3's DummyVecEnv. A cart's random
    stream depends only on its seed, so agent i of a game seeded s + i plays as a one-cart game
    seeded s + i. The cartpole offers same-step autoreset: the adapter uses it, so no step costs
    more than one round trip."""
    reference = [f"r{i}" for i in range(6)]
    candidate = [f"c{i}" for i in range(6 // agents)]
    hub = hub_factory(games=reference + candidate)
    for slot in reference:
        launch(hub.url(), slot, "--max-steps", "12")
    for slot in candidate:
        launch(hub.url(), slot, "--max-steps", "12", "--agents", str(agents))
    dummy = DummyVecEnv([lambda s=s: wsbridge.RemoteEnv(hub, s, connect_timeout=30, progress=False)
                         for s in reference])
    remote = wsbridge.sb3.RemoteVecEnv(wsbridge.RemoteVectorEnv(hub, candidate, connect_timeout=30, progress=False))
    assert remote.same_step and remote.env.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert (remote.num_envs, remote.observation_space, remote.action_space) == (
        dummy.num_envs, dummy.observation_space, dummy.action_space)
    for env in (dummy, remote):
        env.seed(7)
    assert data_equivalence(dummy.reset(), remote.reset(), exact=True)
    rng = np.random.default_rng(1)
    ends = {"terminated": 0, "truncated": 0}
    for step in range(120):
        actions = (rng.random(6) < 0.5).astype(np.int64)
        expected, got = dummy.step(actions), remote.step(actions)
        assert data_equivalence(expected, got, exact=True), f"step {step}: {expected} != {got}"
        assert data_equivalence(dummy.reset_infos, remote.reset_infos, exact=True)
        for done, info in zip(got[2], got[3]):
            if done:
                assert info["terminal_observation"].shape == (4,)
                ends["truncated" if info["TimeLimit.truncated"] else "terminated"] += 1
    assert ends["terminated"] > 0 and ends["truncated"] > 0, ends
    # One round trip for the reset and one per step: the new episodes came in the steps' answers.
    assert len(remote.env.round_trips) == 1 + 120
    remote.close()


def test_the_adapter_matches_sb3s_dummy_vec_env(hub_factory, launch) -> None:
    matches_dummy_vec_env(hub_factory, launch, agents=1)


def test_multi_agent_games_match_one_agent_games_with_same_step_autoreset(hub_factory, launch) -> None:
    matches_dummy_vec_env(hub_factory, launch, agents=3)


def test_multi_agent_games_without_same_step_are_refused_with_the_reason(hub_factory) -> None:
    """A game that offers only next-step autoreset (its hello has no 'autoreset') must have one
    agent: the adapter would have to reset some of its agents without stepping the others."""
    hub = hub_factory(games=1)
    game = ScriptedGame(hub.url(0), lambda message: None, agents=2)
    try:
        wsbridge.sb3.RemoteVecEnv(wsbridge.RemoteVectorEnv(hub, connect_timeout=30, progress=False))
    except ValueError as e:
        assert "one agent per game" in str(e) and "/env/0 has 2 agents" in str(e), e
    else:
        raise AssertionError("a 2-agent game without same-step autoreset was accepted")
    finally:
        game.close()


class Returns(BaseCallback):
    """Collects every finished episode's return (VecMonitor's ``episode`` info)."""

    def __init__(self) -> None:
        super().__init__()
        self.returns: list[float] = []

    def _on_step(self) -> bool:
        self.returns += [info["episode"]["r"] for info in self.locals["infos"] if "episode" in info]
        return True


def test_ppo_learns_on_launched_games(tmp_path) -> None:
    env = wsbridge.sb3.make_vec_env([str(GAME), "{hub}", "{slot}", "--max-steps", "200", "--quiet"], games=4,
                                    log_dir=tmp_path, progress=False)
    try:
        torch.set_num_threads(1)  # a small MLP: threads only fight over the cores
        model = PPO("MlpPolicy", VecMonitor(env), n_steps=128, batch_size=128, n_epochs=5, learning_rate=1e-3,
                    seed=0, device="cpu", verbose=0)
        returns = Returns()
        start = time.monotonic()
        model.learn(total_timesteps=10_240, callback=returns)
        seconds = time.monotonic() - start
        first, last = np.mean(returns.returns[:20]), np.mean(returns.returns[-20:])
        print(f"PPO: {len(returns.returns)} episodes in {seconds:.1f} s, mean return of the first 20 {first:.1f}, "
              f"of the last 20 {last:.1f}")
        assert last > 2 * first and last > 80, (first, last)
    finally:
        env.close()
    assert all(pid is None for pid in env.env.launcher.pids().values())
