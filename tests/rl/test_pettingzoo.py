"""PettingZoo's parallel API through ``wsbridge.pettingzoo``: one game's agents as PettingZoo
agents, checked by PettingZoo's own ``parallel_api_test`` and trained by a short
cross-entropy search (one candidate policy per agent per episode) whose return must rise."""

from __future__ import annotations

import numpy as np
from conftest import GAME
from demo_train import CrossEntropy, act
from pettingzoo.test import parallel_api_test, parallel_seed_test

import wsbridge
import wsbridge.pettingzoo


def test_pettingzoos_parallel_api_test_passes(hub_factory, launch) -> None:
    hub = hub_factory(games=1)
    launch(hub.url(), 0, "--agents", "3", "--max-steps", "40")
    env = wsbridge.pettingzoo.RemoteParallelEnv(hub, 0, connect_timeout=30, progress=False)
    assert env.possible_agents == ["agent_0", "agent_1", "agent_2"]
    parallel_api_test(env, num_cycles=200)
    env.close()


def test_pettingzoos_seed_test_passes(tmp_path) -> None:
    """Two environments built from the same command must play the same episodes from a seed."""
    command = [str(GAME), "{hub}", "{slot}", "--agents", "2", "--max-steps", "30", "--quiet"]
    parallel_seed_test(lambda: wsbridge.pettingzoo.make_parallel_env(command, log_dir=tmp_path, progress=False))


def test_agents_leave_when_their_episode_ends_and_a_search_learns(tmp_path) -> None:
    env = wsbridge.pettingzoo.make_parallel_env([str(GAME), "{hub}", "{slot}", "--agents", "4", "--max-steps",
                                                 "200", "--quiet"], log_dir=tmp_path, progress=False)
    search = CrossEntropy(4, population=16, seed=0)
    means = []
    seed = 0
    try:
        while len(means) < 6:
            candidates = {a: search.ask() for a in env.possible_agents}
            obs, _ = env.reset(seed=seed)
            seed += len(env.possible_agents)
            returns = dict.fromkeys(env.possible_agents, 0.0)
            while env.agents:
                actions = {a: int(act(candidates[a][np.newaxis], obs[a][np.newaxis])[0]) for a in env.agents}
                playing = list(env.agents)
                obs, rewards, terminated, truncated, _ = env.step(actions)
                assert set(rewards) == set(playing)  # only the agents still playing
                for a in playing:
                    returns[a] += rewards[a]
                assert env.agents == [a for a in playing if not (terminated[a] or truncated[a])]
            for a, params in candidates.items():
                if params is not None:
                    mean = search.tell(params, returns[a])
                    if mean is not None:
                        means.append(mean)
    finally:
        env.close()
    print(f"PettingZoo: mean return per generation {[round(m, 1) for m in means]}")
    assert means[-1] > 2 * means[0] and max(means) > 100, means
