"""Both gymnasium adapters driven against real cartpole game processes.

``RemoteEnv`` must pass gymnasium's own ``check_env``. Gymnasium 1.4 has no checker for vector
environments, so ``check_vector_env`` below applies the same checks to the vector API
(spaces, seeding determinism, step determinism, fresh data on every call, types), and
``RemoteVectorEnv`` is compared step by step with gymnasium's reference implementation,
``SyncVectorEnv`` over one ``RemoteEnv`` per game, with the same seeds and actions.
Warnings are errors in this suite (pyproject.toml), so a checker warning fails the test.
"""

from __future__ import annotations

from copy import deepcopy
from itertools import combinations
from typing import Any

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env, data_equivalence
from gymnasium.utils.passive_env_checker import data_shares_objects
from gymnasium.vector import AutoresetMode, SyncVectorEnv, VectorEnv
from gymnasium.vector.utils import batch_space
from peers import ScriptedGame, hello, obs_reply, refusal

from wsbridge import RemoteEnv, RemoteVectorEnv


def test_remote_env_passes_gymnasiums_env_checker(hub_factory, launch) -> None:
    hub = hub_factory(games=1)
    launch(hub.url(), 0)
    env = RemoteEnv(hub, 0, connect_timeout=30)
    check_env(env, skip_render_check=True)
    assert env.unwrapped is env and repr(env) == f"RemoteEnv({hub.url(0)})"


def test_remote_env_plays_episodes_to_their_end(hub_factory, launch) -> None:
    hub = hub_factory(games=1)
    launch(hub.url(), 0, "--max-steps", "20")
    env = RemoteEnv(hub, 0, connect_timeout=30)
    ends = []
    obs, info = env.reset(seed=5)
    assert obs.dtype == np.float32 and obs.shape == (4,) and info == {}
    for _ in range(200):
        obs, reward, terminated, truncated, info = env.step(1)  # always push right: the pole falls
        assert reward == 1.0
        if terminated or truncated:
            ends.append((terminated, truncated, info["end"]))
            obs, info = env.reset()
    assert (True, False, "pole_fell") in ends
    # A balanced start survives to the time limit with alternating pushes.
    env.reset(seed=0)
    for step in range(20):
        _, _, terminated, truncated, info = env.step(step % 2)
    assert (terminated, truncated, info) == (False, True, {"end": "time_limit"})


def test_remote_env_needs_a_single_agent_game(hub_factory, launch) -> None:
    hub = hub_factory(games=1)
    launch(hub.url(), 0, "--agents", "2")
    with pytest.raises(ValueError, match="the game at /env/0 simulates 2 agents: use RemoteVectorEnv"):
        RemoteEnv(hub, 0, connect_timeout=30)
    # The refused environment does not keep the slot: a slot held by an environment refuses a
    # game with other spaces (4400) until that environment is closed, and this one never will be.
    # (Read on the hub's state: the pin is set and cleared on the hub's loop before the
    # environment's constructor returns or raises.)
    assert hub._slot("0").pinned is None


def check_vector_env(env: VectorEnv, steps: int = 50) -> None:
    """gymnasium's check_env, applied to the vector API."""
    n = env.num_envs
    assert isinstance(env, VectorEnv) and env.unwrapped is env
    assert env.observation_space == batch_space(env.single_observation_space, n)
    assert env.action_space == batch_space(env.single_action_space, n)
    assert isinstance(env.metadata["autoreset_mode"], AutoresetMode)

    # reset: types, and seeding determinism (reset(seed) then reset() reproduce themselves).
    obs_1, info = env.reset(seed=123)
    assert obs_1 in env.observation_space and isinstance(info, dict)
    assert env.np_random_seed == 123
    obs_2, _ = env.reset()
    obs_3, _ = env.reset(seed=123)
    obs_4, _ = env.reset()
    assert data_equivalence(obs_1, obs_3, exact=True) and data_equivalence(obs_2, obs_4, exact=True)
    assert not data_equivalence(obs_1, env.reset(seed=456)[0])

    # step: types, and determinism from the same seed and actions.
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(steps)]
    runs = []
    for _ in range(2):
        run = [env.reset(seed=7)]
        for a in actions:
            obs, reward, terminated, truncated, info = env.step(a)
            assert obs in env.observation_space and isinstance(info, dict)
            assert reward.shape == terminated.shape == truncated.shape == (n,)
            assert reward.dtype == np.float64 and terminated.dtype == truncated.dtype == np.bool_
            run.append(deepcopy((obs, reward, terminated, truncated, info)))
        runs.append(run)
    assert data_equivalence(runs[0], runs[1], exact=True)

    # Returned data is never reused: users keep it in replay buffers.
    calls = [env.reset(seed=1)]
    for a in actions[:3]:
        calls.append(env.step(a))
    for first, second in combinations(calls, 2):
        assert not data_shares_objects(first, second)


def test_remote_vector_env_passes_the_vector_checks(hub_factory, launch) -> None:
    hub = hub_factory(games=2)
    launch(hub.url(), 0, "--agents", "3", "--max-steps", "15")
    launch(hub.url(), 1, "--agents", "1", "--max-steps", "15")
    env = RemoteVectorEnv(hub, connect_timeout=30)
    assert env.num_envs == 4 and env.games == ["/env/0", "/env/1"]
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    check_vector_env(env)
    env.close()
    env.close()  # closing twice is allowed


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP], ids=lambda m: m.name)
@pytest.mark.parametrize("layout", [[1, 1, 1, 1], [3, 1], [4]], ids=lambda l: "x".join(map(str, l)))
def test_remote_vector_env_matches_gymnasiums_sync_vector_env(hub_factory, launch, layout: list[int],
                                                              mode: AutoresetMode) -> None:
    """Same seeds and actions: identical observations, rewards, ends, infos and autoresets
    (gymnasium's NEXT_STEP or SAME_STEP mode: then with ``final_obs`` and ``final_info``),
    whether the 4 agents live in 4 games, in 2 games of 3 and 1 agents, or in one game."""
    reference = [f"ref{i}" for i in range(4)]
    candidate = [f"vec{i}" for i in range(len(layout))]
    hub = hub_factory(games=reference + candidate)
    for slot in reference:
        launch(hub.url(), slot, "--max-steps", "25")
    for slot, agents in zip(candidate, layout):
        launch(hub.url(), slot, "--agents", str(agents), "--max-steps", "25")
    sync = SyncVectorEnv([lambda s=s: RemoteEnv(hub, s, connect_timeout=30) for s in reference],
                         autoreset_mode=mode)
    remote = RemoteVectorEnv(hub, candidate, connect_timeout=30, autoreset_mode=mode)
    assert (remote.single_observation_space, remote.single_action_space) == (
        sync.single_observation_space, sync.single_action_space)
    assert (remote.observation_space, remote.action_space) == (sync.observation_space, sync.action_space)
    assert remote.metadata["autoreset_mode"] == sync.metadata["autoreset_mode"]

    assert data_equivalence(sync.reset(seed=42), remote.reset(seed=42), exact=True)
    rng = np.random.default_rng(3)
    terminated = truncated = 0
    for step in range(150):
        # Random pushes: episodes end both by falling (terminated) and at the time limit.
        actions = (rng.random(4) < 0.5).astype(np.int64)
        expected, got = sync.step(actions), remote.step(actions)
        assert data_equivalence(expected, got, exact=True), f"step {step}: {expected} != {got}"
        terminated, truncated = terminated + got[2].sum(), truncated + got[3].sum()
    assert terminated > 0 and truncated > 0
    assert data_equivalence(sync.reset(seed=[1, None, 3, None]), remote.reset(seed=[1, None, 3, None]), exact=True)


def test_bad_vector_arguments_are_refused(hub_factory, launch) -> None:
    hub = hub_factory(games=2)
    launch(hub.url(), 0)
    launch(hub.url(), 1, "--max-steps", "10")
    env = RemoteVectorEnv(hub, connect_timeout=30, progress=False)
    with pytest.raises(ValueError, match="3 seeds for 2 sub-environments"):
        env.reset(seed=[1, 2, 3])
    with pytest.raises(ValueError, match=r"a seed must be None or an integer in \[0, 2\*\*63\), not -1"):
        env.reset(seed=[-1, 2])
    with pytest.raises(RuntimeError, match="call reset"):
        RemoteVectorEnv(hub, connect_timeout=30, progress=False).step(np.zeros(2, np.int64))
    env.reset()
    with pytest.raises(ValueError, match="expected 2 actions"):
        env.step(np.zeros(3, np.int64))


def test_games_with_different_spaces_cannot_share_a_vector_env(hub_factory) -> None:
    hub = hub_factory(games=2)
    ScriptedGame(hub.url("0"), lambda m: None)
    ScriptedGame(hub.url("1"), lambda m: None, action_space={"type": "discrete", "n": 3})
    with pytest.raises(ValueError, match="the games at /env/0 and /env/1 declare different spaces"):
        RemoteVectorEnv(hub, connect_timeout=30, progress=False)


def test_an_old_game_gets_next_step_autoreset_and_no_engine_settings(hub_factory) -> None:
    """A game whose hello predates the autoreset and settings keys keeps working in NEXT_STEP;
    SAME_STEP and engine settings are refused with a message naming it, before anything is sent."""
    hub = hub_factory(games=1)
    seen: list[str] = []

    def answer(message: Any) -> bytes | str:
        seen.append(message.type)
        return obs_reply(message.type, np.zeros((1, 4), np.float32))

    ScriptedGame(hub.url("0"), answer)
    with pytest.raises(ValueError, match=r"same-step autoreset needs games that offer it.*/env/0"):
        RemoteVectorEnv(hub, connect_timeout=30, progress=False, autoreset_mode=AutoresetMode.SAME_STEP)
    env = RemoteVectorEnv(hub, connect_timeout=30, progress=False)
    with pytest.raises(ValueError, match=r"/env/0 do not accept engine settings"):
        env.set_engine_settings(time_scale=2)
    env.reset(seed=0)
    env.step(np.zeros(1, np.int64))
    assert seen == ["reset", "step"]


@pytest.mark.parametrize("changes, reason", [
    ({"autoreset": ["same_step"]}, "hello: 'autoreset' must list the modes the game answers"),
    ({"autoreset": "next_step"}, "hello: 'autoreset' must list the modes the game answers"),
    ({"settings": 1}, "hello: 'settings' must be true or false"),
])
def test_a_bad_autoreset_or_settings_key_in_a_hello_is_refused(hub_factory, changes: dict[str, Any],
                                                               reason: str) -> None:
    hub = hub_factory(games=1)
    code, text = refusal(hub.url("0"), hello(**changes))
    assert code == 4400 and text is not None and text.startswith(reason), text
