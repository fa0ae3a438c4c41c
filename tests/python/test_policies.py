"""Split step (step_async / step_wait), bounded defaults, and what happens to a lost game
(issue 16 items 4 and 5), against real cartpole processes and scripted websockets games."""

from __future__ import annotations

import inspect
import logging
import math
import threading

import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from peers import ScriptedGame, obs_reply

import wsbridge
from wsbridge import GameLostError, RemoteEnv, RemoteVectorEnv
from wsbridge.wire import encode


def test_step_async_sends_the_actions_before_step_wait_is_called(hub_factory) -> None:
    hub = hub_factory(games=2)
    received = [threading.Event(), threading.Event()]
    actions: list[list[int]] = [[], []]

    def game(g: int):
        def answer(message):
            if message.type == "step":
                actions[g].append(int(message.arrays["action"][0]))
                received[g].set()
                return obs_reply("step", np.full((1, 4), g, np.float32))
            return obs_reply("reset", np.zeros((1, 4), np.float32))
        return answer

    games = [ScriptedGame(hub.url(str(g)), game(g)) for g in range(2)]
    env = RemoteVectorEnv(hub, connect_timeout=30, progress=False)
    env.reset(seed=0)
    env.step_async(np.array([1, 0]))
    # Both games have the actions while this thread has not asked for the results: a policy
    # could compute here while the games simulate.
    assert received[0].wait(30) and received[1].wait(30)
    assert actions == [[1], [0]]
    with pytest.raises(RuntimeError, match="a step is already in flight"):
        env.step_async(np.array([0, 0]))
    with pytest.raises(RuntimeError, match="a step is in flight: call step_wait"):
        env.reset()
    obs, reward, terminated, truncated, _ = env.step_wait()
    assert obs.tolist() == [[0.0] * 4, [1.0] * 4] and not (terminated | truncated).any()
    with pytest.raises(RuntimeError, match="call step_async"):
        env.step_wait()
    env.step(np.array([0, 1]))  # step() is the two halves
    assert actions == [[1, 0], [0, 1]]
    for g in games:
        g.close()


def test_the_connect_wait_is_bounded_by_default() -> None:
    for cls in (RemoteVectorEnv, RemoteEnv, wsbridge.make_vector_env):
        default = inspect.signature(cls).parameters["connect_timeout"].default
        assert default == wsbridge.CONNECT_TIMEOUT and math.isfinite(default), cls


def test_a_missing_game_is_named_when_the_connect_wait_ends(hub_factory, launch) -> None:
    hub = hub_factory(games=3)
    launch(hub.url(), 1)
    with pytest.raises(TimeoutError, match=r"no game connected within 0.5 s at /env/0, /env/2$"):
        RemoteVectorEnv(hub, connect_timeout=0.5, progress=False)


def test_on_lost_raise_at_once(hub_factory, launch) -> None:
    hub = hub_factory(games=2)  # the hub's reconnect_timeout is 60 s: the env's 0 wins
    games = [launch(hub.url(), slot) for slot in range(2)]
    env = RemoteVectorEnv(hub, connect_timeout=30, progress=False, reconnect_timeout=0)
    env.reset()
    games[1].stop()
    with pytest.raises(GameLostError, match="the game at /env/1 disconnected and did not come back within 0 s"):
        env.step(env.action_space.sample())


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP], ids=lambda m: m.name)
def test_on_lost_drop_continues_with_the_others_and_takes_the_game_back(hub_factory, launch, caplog,
                                                                        mode: AutoresetMode) -> None:
    caplog.set_level(logging.INFO, logger="wsbridge")
    hub = hub_factory(games=3)
    games = [launch(hub.url(), slot, "--agents", "2", "--max-steps", "1000") for slot in range(3)]
    env = RemoteVectorEnv(hub, connect_timeout=30, progress=False, on_lost="drop", reconnect_timeout=0.3,
                          autoreset_mode=mode)
    env.reset(seed=0)
    first = hub.games()["1"]
    games[1].stop()
    alternate = np.array([0, 1] * 3)
    for step in range(3):
        obs, reward, terminated, truncated, info = env.step(alternate)
        assert env.lost == ["/env/1"]
        assert truncated[2:4].all() and (reward[2:4] == 0).all() and info["wsbridge_lost"][2:4].all()
        assert not truncated[[0, 1, 4, 5]].any() and (reward[[0, 1, 4, 5]] == 1).all(), f"step {step}"
        assert "wsbridge_lost" not in info or not info["wsbridge_lost"][[0, 1, 4, 5]].any()
    assert any("/env/1 disconnected and did not come back within 0.3 s; its agents are dropped" in r.getMessage()
               for r in caplog.records)
    launch(hub.url(), 1, "--agents", "2")
    hub.wait_for_connection("1", newer_than=first.connection, timeout=30)
    obs, reward, terminated, truncated, info = env.step(alternate)
    assert env.lost == []
    # Taken back: its agents start new episodes (first observations, reward 0), the others go on.
    assert not (terminated | truncated).any() and (reward[2:4] == 0).all() and (reward[[0, 1, 4, 5]] == 1).all()
    assert info["wsbridge_reconnected"][2:4].all() and (np.abs(obs[2:4]) <= 0.05).all()
    obs, reward, *_ = env.step(alternate)
    assert (reward == 1).all()


def test_on_lost_drop_at_reset_and_bad_values(hub_factory, launch) -> None:
    hub = hub_factory(games=2)
    games = [launch(hub.url(), slot) for slot in range(2)]
    env = RemoteVectorEnv(hub, connect_timeout=30, progress=False, on_lost="drop", reconnect_timeout=0)
    games[0].stop()  # whether or not the hub has noticed yet, the reset finds it gone
    obs, info = env.reset(seed=1)
    assert env.lost == ["/env/0"] and info["wsbridge_lost"][0] and (obs[0] == 0).all()
    obs, reward, terminated, truncated, info = env.step(np.array([0, 1]))
    assert truncated[0] and reward[1] == 1 and not truncated[1]
    with pytest.raises(ValueError, match="on_lost must be one of 'raise', 'drop', not 'ignore'"):
        RemoteVectorEnv(hub, ["1"], connect_timeout=30, progress=False, on_lost="ignore")


def test_restart_finished_starts_the_next_episodes_at_once(hub_factory, launch) -> None:
    hub = hub_factory(games=2)
    for slot in range(2):
        launch(hub.url(), slot, "--max-steps", "3")
    env = RemoteVectorEnv(hub, connect_timeout=30, progress=False)
    env.reset(seed=0)
    for _ in range(3):
        obs, reward, terminated, truncated, info = env.step(np.array([0, 1]))
    assert truncated.all() and info["end"].tolist() == ["time_limit"] * 2
    first, infos = env.restart_finished()
    assert (np.abs(first) <= 0.05).all() and not np.array_equal(first, obs) and infos == [{}, {}]
    _, reward, terminated, truncated, _ = env.step(np.array([0, 1]))  # a real step, not a reset step
    assert (reward == 1).all() and not (terminated | truncated).any()
    assert len(env.round_trips) == 1 + 3 + 1 + 1


def test_restart_finished_needs_every_agent_of_a_game_finished(hub_factory) -> None:
    hub = hub_factory(games=1)

    def answer(message):
        arrays = {"obs": np.zeros((2, 4), np.float32)}
        if message.type == "step":
            arrays |= {"reward": np.ones(2, np.float32), "terminated": np.array([True, False]),
                       "truncated": np.zeros(2, bool)}
        return encode(message.type, arrays=arrays)

    game = ScriptedGame(hub.url("0"), answer, agents=2)
    env = RemoteVectorEnv(hub, connect_timeout=30, progress=False)
    env.reset()
    env.step(np.array([0, 0]))
    with pytest.raises(ValueError, match=r"the game at /env/0 has agents \[1\] still playing"):
        env.restart_finished()
    game.close()
