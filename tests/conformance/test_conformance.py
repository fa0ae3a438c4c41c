"""The env protocol's game side, checked through the real trainer package (Hub,
RemoteVectorEnv) and a raw websockets trainer, for every implementation in ``IMPLEMENTATIONS``
(conftest.py): hello, seeds, autoreset rows, several agents, every space, per-frame polling and
the decision period, reconnection, the end of training, malformed trainer messages, refusals
and version mismatches both ways, and finding a slot through a lobby."""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode
from websockets.asyncio.server import ServerConnection

import wsbridge
import wsbridge.protocol
from conftest import LOBBY_HUB_TOKEN, LOBBY_TOKEN, Connection
from wsbridge import CloseCode, RemoteVectorEnv
from wsbridge.spaces import select_row
from wsbridge.wire import decode, encode

SPACES: dict[str, spaces.Space[Any]] = {
    "box_f32": spaces.Box(-1, 1, (3,), np.float32),
    "box_f64": spaces.Box(-1, 1, (2, 2), np.float64),
    "image": spaces.Box(0, 255, (16, 16, 3), np.uint8),
    "box_i16": spaces.Box(-100, 100, (4,), np.int16),
    "discrete": spaces.Discrete(5, start=2),
    "multi_discrete": spaces.MultiDiscrete([3, 4, 5]),
    "multi_binary": spaces.MultiBinary([2, 3]),
}


def vector_env(hub: wsbridge.Hub, **kwargs: Any) -> RemoteVectorEnv:
    return RemoteVectorEnv(hub, connect_timeout=30, progress=False, **kwargs)


def test_hello_declares_the_game_once_per_connection(launch, raw_trainer) -> None:
    async def finish(ws: ServerConnection, conn: Connection) -> None:
        await ws.close(1000, "done")

    trainer = raw_trainer(finish)
    game = launch(trainer.url("/env/7"), "--agents", "3", "--obs", "image", "--act", "multi_binary")
    game.expect("connected 1")
    assert trainer.next_ended().hello == {
        "type": "hello", "protocol": 1, "name": "spaces", "agents": 3,
        "observation_space": {"type": "box", "shape": [16, 16, 3], "dtype": "uint8", "low": 0, "high": 255},
        "action_space": {"type": "multi_binary", "n": [2, 3]}, "autoreset": ["next_step"], "settings": True,
    }
    game.expect("finished 1000 done")
    assert game.wait() == 0 and [c.path for c in trainer.connections] == ["/env/7"]


@pytest.mark.parametrize("kind", sorted(SPACES))
def test_every_space_travels_both_ways(hub_factory, launch, kind: str) -> None:
    hub = hub_factory(games=1)
    launch(hub.url(0), "--agents", "2", "--obs", kind, "--act", kind, "--episode", "50")
    env = vector_env(hub)
    assert env.single_observation_space == SPACES[kind]
    assert env.single_action_space == SPACES[kind]
    obs, _ = env.reset(seed=3)
    assert obs in env.observation_space and obs.dtype == SPACES[kind].dtype
    env.action_space.seed(1)
    for _ in range(5):
        actions = env.action_space.sample()
        obs, reward, terminated, truncated, info = env.step(actions)
        assert obs in env.observation_space
        for i in range(2):  # each agent got its own action, item for item
            sent = np.asarray(actions[i]).ravel()
            np.testing.assert_array_equal(np.asarray(info["action"][i], dtype=sent.dtype), sent)
        np.testing.assert_array_equal(reward, [1.0, 1.25])
        assert not (terminated | truncated).any()


COMPOSITE: dict[str, spaces.Space[Any]] = {
    "dict": spaces.Dict({"camera": SPACES["image"], "mode": SPACES["discrete"], "pos": SPACES["box_f32"]}),
    "tuple": spaces.Tuple((SPACES["box_i16"], spaces.Dict({"bits": SPACES["multi_binary"]}))),
}
_MASK = 2**64 - 1


def model_rows(kind: str, seed: int) -> Any:
    """What spaces_game draws for one agent after a reset with ``seed`` (its contract):
    splitmix64 items mapped into each leaf, the leaves in wire order."""
    state = seed

    def draw(n: int) -> list[int]:
        nonlocal state
        out = []
        for _ in range(n):
            state = (state + 0x9E3779B97F4A7C15) & _MASK
            z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
            out.append(z ^ (z >> 31))
        return out

    def unit(r: int) -> float:
        return (r >> 11) * 2.0**-53 * 2.0 - 1.0

    if kind == "dict":
        camera = np.array([r & 0xFF for r in draw(768)], np.uint8).reshape(16, 16, 3)
        mode = np.int64(2 + draw(1)[0] % 5)
        pos = np.array([unit(r) for r in draw(3)], np.float32)
        return {"camera": camera, "mode": mode, "pos": pos}
    box = np.array([r % 201 - 100 for r in draw(4)], np.int16)
    bits = np.array([r & 1 for r in draw(6)], np.int8).reshape(2, 3)
    return (box, {"bits": bits})


@pytest.mark.needs("composite")
@pytest.mark.parametrize("kind", sorted(COMPOSITE))
def test_dict_and_tuple_observations_travel_as_named_arrays(hub_factory, launch, raw_trainer, kind: str) -> None:
    """A dict (set part by part) or tuple (set as whole rows) observation space: the hello
    declares it, the answer carries one array per leaf (``obs.camera``, ``obs.1.bits``), each
    row exactly what the game drew, for every agent."""
    hub = hub_factory(games=1)
    launch(hub.url(0), "--agents", "3", "--obs", kind, "--episode", "50")
    env = vector_env(hub)
    assert env.single_observation_space == COMPOSITE[kind]
    obs, _ = env.reset(seed=[7, 8, 9])
    assert obs in env.observation_space
    for i in range(3):
        assert data_equivalence(select_row(obs, i), model_rows(kind, 7 + i), exact=True), i
    obs, reward, _, _, _ = env.step(np.array([2, 3, 4]))
    assert obs in env.observation_space and reward.tolist() == [1.0, 1.25, 1.5]
    again, _ = env.reset(seed=[7, 8, 9])
    assert data_equivalence(select_row(again, 2), model_rows(kind, 9), exact=True)

    async def look(ws: ServerConnection, conn: Connection) -> None:
        await ws.send(json.dumps({"type": "reset", "seeds": [1], "options": {}}))
        conn.replies.append(await ws.recv())
        await ws.close(1000, "done")

    trainer = raw_trainer(look)
    game = launch(trainer.url(), "--obs", kind)
    assert game.wait() == 0
    conn = trainer.next_ended()
    assert conn.hello["observation_space"]["type"] == kind
    names = {"dict": ["obs.camera", "obs.mode", "obs.pos"], "tuple": ["obs.0", "obs.1.bits"]}[kind]
    assert list(decode(conn.replies[0]).arrays) == names


@pytest.mark.needs("same_step", "composite")
def test_same_step_autoreset_with_a_dict_observation(hub_factory, launch) -> None:
    hub = hub_factory(games=1)
    launch(hub.url(0), "--agents", "2", "--obs", "dict", "--episode", "2", "--same-step")
    env = vector_env(hub, autoreset_mode=AutoresetMode.SAME_STEP)
    env.reset(seed=[4, 5])
    env.step(np.array([2, 2]))
    obs, _, terminated, _, info = env.step(np.array([2, 2]))  # agent 0 ends after 2 frames
    assert terminated.tolist() == [True, False] and info["_final_obs"].tolist() == [True, False]
    final = info["final_obs"][0]  # gymnasium keeps final observations unbatched, one object per agent
    assert sorted(final) == ["camera", "mode", "pos"] and final in COMPOSITE["dict"]
    assert obs in env.observation_space
    assert not data_equivalence(final, select_row(obs, 0))  # the new episode's first observation


def test_seeded_resets_are_reproducible(hub_factory, launch) -> None:
    hub = hub_factory(games=1)
    launch(hub.url(0), "--agents", "3", "--obs", "box_f64")
    env = vector_env(hub)
    first, _ = env.reset(seed=11)
    follow, _ = env.reset()  # continues each agent's random stream
    assert not np.array_equal(first, follow)
    again, _ = env.reset(seed=11)
    follow_again, _ = env.reset()
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(follow, follow_again)
    assert not np.array_equal(first, env.reset(seed=12)[0])
    assert not np.array_equal(first[0], first[1])  # seeds 11, 12, 13: one per agent
    mixed, _ = env.reset(seed=[11, None, 13])
    np.testing.assert_array_equal(mixed[[0, 2]], first[[0, 2]])


def test_finished_episodes_restart_on_the_next_step(hub_factory, launch) -> None:
    hub = hub_factory(games=1)
    launch(hub.url(0), "--agents", "2", "--episode", "2")  # agent 0 ends after 2 frames, agent 1 after 3
    env = vector_env(hub)
    env.reset(seed=0)
    actions = np.array([2, 3])
    ends = []
    for _ in range(4):
        _, reward, terminated, truncated, info = env.step(actions)
        ends.append((reward.tolist(), terminated.tolist(), truncated.tolist(),
                     [bool(r) for r in info.get("reset", [False, False])]))
    assert ends == [
        ([1.0, 1.25], [False, False], [False, False], [False, False]),
        ([1.0, 1.25], [True, False], [False, False], [False, False]),  # agent 0 terminated
        ([0.0, 1.25], [False, False], [False, True], [True, False]),  # its reset row; agent 1 truncated
        ([1.0, 0.0], [False, False], [False, False], [False, True]),
    ]


@pytest.mark.needs("same_step")
def test_a_game_with_partial_resets_offers_same_step_autoreset(launch, raw_trainer) -> None:
    async def finish(ws: ServerConnection, conn: Connection) -> None:
        await ws.close(1000, "done")

    trainer = raw_trainer(finish)
    game = launch(trainer.url(), "--same-step")
    game.expect("connected 1")
    assert trainer.next_ended().hello["autoreset"] == ["next_step", "same_step"]
    assert game.wait() == 0


def plain(value: Any) -> Any:
    return value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value


def agent_streams(env: RemoteVectorEnv, steps: int, actions: np.ndarray) -> list[list[Any]]:
    """What each agent saw, one entry per episode step and one per new episode's first
    observation (whatever the autoreset mode): ``("step", obs, reward, terminated, truncated,
    info)`` and ``("first", obs, info)``."""
    same_step = env.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    obs, info = env.reset(seed=[5, 6, 7])
    streams: list[list[Any]] = [[("first", obs[i].tolist(), {"reset": True})] for i in range(env.num_envs)]
    ended = np.zeros(env.num_envs, np.bool_)
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(actions)
        for i in range(env.num_envs):
            mine = {k: plain(v[i]) for k, v in info.items()
                    if not k.startswith("_") and k not in ("final_obs", "final_info") and info[f"_{k}"][i]}
            if ended[i]:  # NEXT_STEP: the row that starts the next episode
                assert (reward[i], terminated[i], truncated[i]) == (0, False, False)
                streams[i].append(("first", obs[i].tolist(), mine))
                continue
            done = bool(terminated[i] or truncated[i])
            if same_step and done:
                assert info["_final_obs"][i] and info["final_info"]["_t"][i]
                final = {k: plain(v[i]) for k, v in info["final_info"].items()
                         if not k.startswith("_") and info["final_info"][f"_{k}"][i]}
                streams[i].append(("step", info["final_obs"][i].tolist(), float(reward[i]), bool(terminated[i]),
                                   bool(truncated[i]), final))
                streams[i].append(("first", obs[i].tolist(), mine))
            else:
                assert "_final_obs" not in info or not info["_final_obs"][i]
                streams[i].append(("step", obs[i].tolist(), float(reward[i]), bool(terminated[i]),
                                   bool(truncated[i]), mine))
        ended = (terminated | truncated) & (not same_step)
    return streams


@pytest.mark.needs("same_step")
def test_same_step_autoreset_answers_the_final_and_the_first_observation_at_once(hub_factory, launch) -> None:
    """Three agents (episodes of 2, 3 and 4 frames: agents 0 and 2 end in the same step) give
    the same per-agent streams with both autoreset modes, without the junk step in SAME_STEP;
    the game's rewards and episode ends during a partial reset are ignored."""
    hub = hub_factory(games=["next", "same"])
    launch(hub.url("next"), "--agents", "3", "--episode", "2")
    launch(hub.url("same"), "--agents", "3", "--episode", "2", "--same-step")
    next_env = vector_env(hub, slots=["next"])
    same_env = vector_env(hub, slots=["same"], autoreset_mode=AutoresetMode.SAME_STEP)
    actions = np.array([2, 4, 6])
    same = agent_streams(same_env, 8, actions)
    nexts = agent_streams(next_env, 12, actions)
    for i in range(3):
        assert len(same[i]) > 8 and same[i] == nexts[i][:len(same[i])], i
        ends = [e for e in same[i] if e[0] == "step" and (e[3] or e[4])]
        assert len(ends) >= 2 and all(e[3] == (i % 2 == 0) and e[4] == (i % 2 == 1) for e in ends)
        assert all(e[2] == 1 + 0.25 * i for e in same[i] if e[0] == "step")  # no 0-reward junk step
    # Agents 0 and 2 ended together in step 4 (frames 2+2 and 4).
    together = vector_env(hub, slots=["same"], autoreset_mode=AutoresetMode.SAME_STEP)
    together.reset(seed=0)
    for _ in range(3):
        together.step(actions)
    _, reward, terminated, truncated, info = together.step(actions)
    assert (terminated | truncated).tolist() == [True, False, True]
    assert info["_final_obs"].tolist() == [True, False, True] and reward.tolist() == [1.0, 1.25, 1.5]
    assert info["reset"].tolist() == [True, False, True]


@pytest.mark.needs("same_step")
def test_same_step_restarts_the_episodes_of_a_reconnected_game_at_once(hub_factory, launch) -> None:
    hub = hub_factory(games=1)
    game = launch(hub.url(0), "--agents", "2", "--episode", "50", "--same-step")
    env = vector_env(hub, autoreset_mode=AutoresetMode.SAME_STEP)
    env.reset(seed=0)
    last, *_ = env.step(np.array([2, 2]))
    hub.kick("0")  # 1001: the game reconnects
    game.expect("reconnected 2")
    obs, reward, terminated, truncated, info = env.step(np.array([2, 2]))
    assert truncated.all() and not terminated.any() and reward.tolist() == [0.0, 0.0]
    assert info["final_info"]["wsbridge_reconnected"].all() and info["reset"].all()
    np.testing.assert_array_equal(np.stack(info["final_obs"]), last)  # the last rows before the drop
    assert not np.array_equal(obs, last)
    _, reward, _, _, info = env.step(np.array([2, 2]))  # no reset row: the episodes already restarted
    assert reward.tolist() == [1.0, 1.25] and info["t"].tolist() == [1, 1]


@pytest.mark.needs("same_step", "composite")
def test_same_step_with_a_dropped_dict_observation_game_and_the_split_step(hub_factory, launch) -> None:
    """Same-step autoreset with the lost-game policy: a game gone at the reset gets zero rows
    (of a dict observation) and is truncated while gone, then taken back and reset when it
    returns; step_async/step_wait behave as step, and restart_finished has nothing to do."""
    hub = hub_factory(games=2)
    args = ("--obs", "dict", "--episode", "50", "--same-step")
    games = [launch(hub.url(slot), *args) for slot in range(2)]
    env = vector_env(hub, autoreset_mode=AutoresetMode.SAME_STEP, on_lost="drop", reconnect_timeout=0)
    first = hub.games()["0"]
    games[0].stop()  # whether or not the hub has noticed yet, the reset finds it gone
    obs, info = env.reset(seed=[4, 5])
    assert env.lost == ["/env/0"] and info["wsbridge_lost"].tolist() == [True, False]
    assert sorted(obs) == ["camera", "mode", "pos"] and all((part[0] == 0).all() for part in obs.values())
    assert select_row(obs, 1) in COMPOSITE["dict"]
    env.step_async(np.array([2, 2]))
    obs, reward, terminated, truncated, info = env.step_wait()
    assert truncated.tolist() == [True, False] and reward.tolist() == [0.0, 1.0]
    assert info["wsbridge_lost"].tolist() == [True, False] and "final_obs" not in info
    trips = len(env.round_trips)
    same, infos = env.restart_finished()  # a no-op in same-step mode: no round trip
    assert data_equivalence(same, obs) and infos == [{}, {}] and len(env.round_trips) == trips
    games[0] = launch(hub.url(0), *args)
    hub.wait_for_connection("0", newer_than=first.connection, timeout=30)
    obs, reward, terminated, truncated, info = env.step(np.array([2, 2]))
    assert env.lost == [] and info["wsbridge_reconnected"].tolist() == [True, False]
    assert reward.tolist() == [0.0, 1.0] and not (terminated | truncated).any() and obs in env.observation_space
    _, reward, _, _, info = env.step(np.array([2, 2]))
    assert reward.tolist() == [1.0, 1.0] and info["t"].tolist() == [1, 3]


def test_same_step_needs_a_game_that_offers_it(hub_factory, launch) -> None:
    hub = hub_factory(games=1)
    launch(hub.url(0))
    with pytest.raises(ValueError, match=r"same-step autoreset needs games that offer it.*/env/0 offer only "
                                         r"\('next_step',\).*partial_reset"):
        vector_env(hub, autoreset_mode=AutoresetMode.SAME_STEP)


@pytest.mark.needs("settings")
def test_engine_settings_reach_the_game_and_follow_it_across_reconnections(hub_factory, launch) -> None:
    hub = hub_factory(games=1)
    game = launch(hub.url(0), "--agents", "2")
    env = vector_env(hub)
    env.reset(seed=0)
    env.set_engine_settings(time_scale=20, target_frame_rate=-1, quality_level=2, camera="top", fog=[1, 2])
    sent = {"time_scale": 20.0, "target_frame_rate": -1, "quality_level": 2, "camera": "top", "fog": [1, 2]}
    assert json.loads(game.expect("settings ").split(" ", 1)[1]) == sent
    env.step(np.array([2, 3]))  # the game still answers steps
    env.set_engine_settings(time_scale=1.5)  # replaces them all
    assert json.loads(game.expect("settings ").split(" ", 1)[1]) == {"time_scale": 1.5}
    hub.kick("0")  # 1001: the game reconnects and gets the settings again before its next request
    game.expect("reconnected 2")
    _, _, _, truncated, info = env.step(np.array([2, 3]))
    assert truncated.all() and info["wsbridge_reconnected"].all()
    _, reward, _, _, _ = env.step(np.array([2, 3]))  # the settings go first, on the new connection
    assert json.loads(game.expect("settings ").split(" ", 1)[1]) == {"time_scale": 1.5}
    assert reward.tolist() == [0.0, 0.0]  # the reset rows of the reconnected agents
    with pytest.raises(ValueError, match="time_scale must be a finite number > 0, not 0"):
        env.set_engine_settings(time_scale=0)
    with pytest.raises(ValueError, match="target_frame_rate must be a positive integer or -1"):
        env.set_engine_settings(target_frame_rate=0)
    with pytest.raises(ValueError, match="engine settings must be JSON values"):
        env.set_engine_settings(camera=object())


def test_several_agents_in_several_games(hub_factory, launch) -> None:
    hub = hub_factory(games=2)
    launch(hub.url(0), "--agents", "3", "--act", "multi_discrete")
    launch(hub.url(1), "--agents", "2", "--act", "multi_discrete")
    env = vector_env(hub)
    assert env.num_envs == 5
    env.reset(seed=1)
    actions = np.array([[0, 0, 0], [1, 1, 1], [2, 2, 2], [0, 1, 2], [2, 3, 4]])
    _, reward, _, _, info = env.step(actions)
    assert info["action"].tolist() == actions.tolist()
    np.testing.assert_array_equal(reward, [1.0, 1.25, 1.5, 1.0, 1.25])


@pytest.mark.parametrize("repeat", [True, False], ids=["repeat", "no-decision"])
def test_a_polling_game_acts_every_decision_period(hub_factory, launch, repeat: bool) -> None:
    hub = hub_factory(games=1)
    launch(hub.url(0), "--poll", "--decision-period", "3", "--episode", "7",
           *([] if repeat else ["--no-repeat"]))
    env = vector_env(hub)
    env.reset(seed=0)
    rows = []
    for _ in range(3):
        _, reward, terminated, _, info = env.step(np.array([4]))
        rows.append((reward[0], bool(terminated[0]), int(info["frames"][0]), int(info["t"][0]),
                     bool(info.get("no_action", [False])[0])))
    # Three frames per decision with rewards added up; the episode's end answers at once.
    assert rows == [(3.0, False, 3, 3, not repeat), (3.0, False, 3, 6, not repeat), (1.0, True, 1, 7, False)]
    assert info["action"][0] == [4]


def test_a_dropped_game_reconnects_to_its_slot_and_says_hello_again(hub_factory, launch) -> None:
    hub = hub_factory(games=1)
    game = launch(hub.url(0), "--agents", "2")
    env = vector_env(hub)
    env.reset(seed=0)
    env.step(np.array([2, 2]))
    hub.kick("0", CloseCode.GOING_AWAY, "trainer restarting")
    _, reward, terminated, truncated, info = env.step(np.array([2, 2]))
    assert truncated.all() and not terminated.any() and (reward == 0).all()
    assert info[wsbridge.RECONNECTED_INFO].all()
    game.expect("disconnected 1001 WSB_CLOSED trainer restarting")
    game.expect("reconnected 2")
    assert hub.games()["0"].connection == 2
    _, reward, terminated, truncated, info = env.step(np.array([2, 2]))  # resets both agents
    assert info["reset"].all() and (reward == 0).all()
    _, reward, _, _, info = env.step(np.array([3, 4]))
    assert info["action"].tolist() == [[3], [4]] and info["t"].tolist() == [1, 1]


def test_a_link_lost_without_a_close_frame_is_reconnected(launch, raw_trainer) -> None:
    async def cut(ws: ServerConnection, conn: Connection) -> None:
        ws.transport.abort()  # like a network failure: no close frame

    async def finish(ws: ServerConnection, conn: Connection) -> None:
        await ws.close(1000, "training finished")

    trainer = raw_trainer(cut, finish)
    game = launch(trainer.url("/env/4"), "--agents", "2")
    game.expect("disconnected 1006 WSB_CONNECTION_LOST")
    game.expect("reconnected 2")
    game.expect("finished 1000 training finished")
    assert game.wait() == 0
    first, second = trainer.connections
    assert first.path == second.path == "/env/4" and first.hello == second.hello


def test_training_finished_ends_the_game_without_reconnecting(hub_factory, launch, raw_trainer) -> None:
    hub = hub_factory(games=2)
    games = [launch(hub.url(slot)) for slot in range(2)]
    vector_env(hub).reset()
    hub.close()
    for game in games:
        game.expect("finished 1000 training finished")
        assert game.wait() == 0

    async def finish(ws: ServerConnection, conn: Connection) -> None:
        await ws.close(1000, "bye")

    trainer = raw_trainer(finish)
    game = launch(trainer.url())
    assert game.wait() == 0
    assert trainer.next_ended().close_code is not None and len(trainer.connections) == 1


def step_message(actions: np.ndarray, reset: np.ndarray) -> bytes | str:
    return encode("step", arrays={"action": actions, "reset": reset})


def framed(header: dict[str, Any], payload: bytes) -> bytes:
    text = json.dumps(header).encode()
    text += b" " * (-(4 + len(text)) % 8)
    return struct.pack("<I", len(text)) + text + payload


RESET = json.dumps({"type": "reset", "seeds": [None, None], "options": {}})
ACTIONS = np.array([2, 3], np.int64)
NO_RESET = np.zeros(2, np.bool_)

MALFORMED: dict[str, tuple[list[bytes | str], str]] = {
    "not json": (["not json"], "the header is not a valid request"),
    "unknown type": (['{"type": "dance"}'], 'unknown message type "dance"'),
    "step before reset": ([step_message(ACTIONS, NO_RESET)], "step: agent 0 must be reset on this connection"),
    "wrong shape": ([RESET, step_message(np.array([2, 3, 4]), np.zeros(3, np.bool_))],
                    'step: "action" is int64[3], expected int64[2] (2 agents)'),
    "wrong dtype": ([RESET, step_message(ACTIONS.astype(np.int32), NO_RESET)],
                    'step: "action" is int32[2], expected int64[2]'),
    "action out of range": ([RESET, step_message(np.array([2, 9]), NO_RESET)],
                            "step: agent 1: action 9 is outside Discrete(5, start=2)"),
    "array outside the payload": ([RESET, framed({"type": "step", "arrays": {
        "action": {"dtype": "int64", "shape": [2], "offset": 4096},
        "reset": {"dtype": "bool", "shape": [2], "offset": 0}}}, bytes(16))], 'step: "action" (16 bytes at offset 4096)'),
    "reset flag not 0 or 1": ([RESET, framed({"type": "step", "arrays": {
        "action": {"dtype": "int64", "shape": [2], "offset": 0},
        "reset": {"dtype": "bool", "shape": [2], "offset": 16}}}, ACTIONS.tobytes() + bytes([0, 2]))],
        "step: reset flag of agent 1 is 2"),
    "text step": (['{"type": "step"}'], 'step: the message has no "action" array'),
    "same step not offered": ([RESET, encode("step", {"autoreset": "same_step"},
                                             {"action": ACTIONS, "reset": NO_RESET})],
                              'step: the trainer asked for "same_step" autoreset, which this game does not offer'),
    "unknown autoreset mode": ([RESET, encode("step", {"autoreset": "sometimes"},
                                              {"action": ACTIONS, "reset": NO_RESET})],
                               'step: unknown autoreset mode "sometimes"'),
    "seeds for other agents": (['{"type": "reset", "seeds": [1]}'], 'reset: "seeds" lists 1 entries for 2 agents'),
    "negative seed": (['{"type": "reset", "seeds": [-1, null]}'], "the header is not a valid request"),
    "settings not an object": (['{"type": "settings", "settings": [1]}'],
                               'settings: "settings" must be an object, not [1]'),
    "short binary": ([b"\x01\x00"], "a binary message of 2 bytes is too short"),
    "header longer than the message": ([b"\xff\x00\x00\x00{}"], "the header length says 255 bytes"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_trainer_messages_get_a_clear_error(launch, raw_trainer, case: str) -> None:
    messages, text = MALFORMED[case]

    async def send(ws: ServerConnection, conn: Connection) -> None:
        for m in messages:
            await ws.send(m)
            conn.replies.append(await ws.recv())

    trainer = raw_trainer(send)
    game = launch(trainer.url(), "--agents", "2")
    line = game.expect("error ")
    assert line.startswith(f"error WSB_ENV_PROTOCOL_ERROR: the trainer broke the env protocol: {text}"), line
    assert game.wait() == 2
    conn = trainer.next_ended()
    assert conn.close_code == 4400 and conn.close_reason is not None
    assert conn.close_reason.startswith("the trainer broke the env protocol: ")
    assert len(conn.replies) == len(messages) - 1 and len(trainer.connections) == 1


def test_a_trainer_speaking_another_version_is_refused_by_the_game(launch, raw_trainer) -> None:
    async def newer(ws: ServerConnection, conn: Connection) -> None:
        await ws.send(json.dumps({"type": "reset", "protocol": 2, "seeds": [None], "options": {}}))
        await ws.recv()

    trainer = raw_trainer(newer)
    game = launch(trainer.url())
    game.expect("error WSB_ENV_VERSION_MISMATCH: the trainer speaks protocol version 2; this game speaks version 1")
    assert game.wait() == 2
    conn = trainer.next_ended()
    assert (conn.close_code, conn.close_reason) == (
        4400, "the trainer speaks protocol version 2; this game speaks version 1")


def test_a_trainer_that_refuses_the_games_version_is_reported(hub_factory, launch, monkeypatch) -> None:
    monkeypatch.setattr(wsbridge.protocol, "PROTOCOL_VERSION", 2)  # a newer trainer package
    hub = hub_factory(games=1)
    game = launch(hub.url(0))
    game.expect('error WSB_ENV_VERSION_MISMATCH: the trainer does not speak this game\'s protocol version 1: '
                'it closed the connection with 4400 "protocol version 1 is not supported (this hub speaks 2)"')
    assert game.wait() == 2


def test_refusals_are_final(hub_factory, launch) -> None:
    hub = hub_factory(games=1, token="s3cret")
    unknown = launch(hub.url(9), "--token", "s3cret")
    unknown.expect("error WSB_ENV_REFUSED: 4404 no slot at /env/9: this hub serves /env/0")
    # The hub checks the token before the upgrade: HTTP 401, final, and the guess is not echoed.
    wrong = launch(hub.url(0), "--token", "guess")
    line = wrong.expect("error WSB_ENV_REFUSED: the trainer at ")
    assert "refused this game with HTTP 401" in line and "guess" not in line, line
    assert unknown.wait() == 2 and wrong.wait() == 2
    right = launch(hub.url(0), "--token", "s3cret")
    right.expect("connected 1")
    assert hub.wait_for_connection("0", timeout=30).name == "spaces"


def test_a_game_gives_up_when_no_trainer_comes(launch) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    game = launch(f"ws://127.0.0.1:{port}/env/0", "--give-up-ms", "300")
    line = game.expect("error ")
    assert line.startswith(f"error WSB_CONNECT_FAILED: gave up trying to connect to ws://127.0.0.1:{port}/env/0 "
                           "after 0.3 s without a connection"), line
    assert game.wait() == 2


def test_a_lobby_assigns_the_slot_and_a_taken_slot_sends_the_game_back_for_another(hub_factory, launch,
                                                                                 lobby) -> None:
    hubs: dict[str, wsbridge.Hub] = {}
    for hub_id in ("a", "b"):
        hub = hub_factory(games=1, token=LOBBY_TOKEN, lobby=lobby.url("/lobby/hubs"), lobby_token=LOBBY_HUB_TOKEN,
                          hub_id=hub_id, env_name="spaces")
        lobby.expect(f"hub {hub_id} registered")
        hubs[hub.url(0)] = hub
    # One token for the lobby and the slot; per-frame polling while the lobby holds the game.
    game = launch(lobby.url(), "--lobby", "--env-name", "spaces", "--token", LOBBY_TOKEN, "--agents", "2", "--poll")
    game.expect("connected 1")
    first = game.expect("slot ").removeprefix("slot ")
    assert first in hubs
    assert hubs[first].wait_for_connection("0", timeout=30).name == "spaces"
    # Another game holds the slot (the hub's 4409): the game goes back to the lobby, which
    # assigns the other hub's slot (it avoids the one the game lost).
    hubs[first].kick("0", CloseCode.SLOT_TAKEN, "held by another game")
    game.expect("disconnected 4409 WSB_CLOSED held by another game")
    game.expect("reconnected 2")
    (other,) = set(hubs) - {first}
    assert game.expect("slot ") == f"slot {other}"
    env = vector_env(hubs[other])
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([3, 4]))
    assert info["action"].tolist() == [[3], [4]]
    hubs[other].close()
    game.expect("finished 1000")
    assert game.wait() == 0


def test_a_lobby_that_refuses_the_token_is_final(launch, lobby) -> None:
    game = launch(lobby.url(), "--lobby", "--token", "guess")
    line = game.expect("error WSB_ENV_REFUSED: ")
    assert f"the lobby at {lobby.url()} refused this game with HTTP 401" in line and "guess" not in line, line
    assert game.wait() == 2
