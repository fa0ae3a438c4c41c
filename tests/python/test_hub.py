"""The hub against real peers: C cartpole processes (through libwsbridge) and scripted
``websockets`` clients. Routing, tokens, slots, protocol violations, reconnection, keepalive."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest
from peers import HELLO, ScriptedGame, closed_with, hello, obs_reply, refusal
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

import wsbridge
from wsbridge import CloseCode, GameLostError, ProtocolError, RemoteVectorEnv, ReplyTimeoutError


def test_many_games_share_one_port_routed_by_path(hub_factory, launch) -> None:
    hub = hub_factory(games=3)
    for slot in range(3):
        launch(hub.url(), slot, "--agents", str(slot + 1))
    games = hub.wait_for_games(timeout=30)
    assert [(g.path, g.name, g.agents, g.connection) for g in games] == [
        ("/env/0", "cartpole", 1, 1), ("/env/1", "cartpole", 2, 1), ("/env/2", "cartpole", 3, 1)]
    assert len({g.address for g in games}) == 3
    assert {g.address.split(":")[0] for g in games} == {"127.0.0.1"}


def test_a_wait_for_games_shows_a_progress_bar(hub_factory, capfd) -> None:
    # No game comes, so the wait has to wait and show its bar. (Asserting the bar after launched
    # games connect depended on timing: on a loaded machine all of them could be connected before
    # the wait began, and a wait with nothing to wait for shows no bar.)
    hub = hub_factory(games=1)
    with pytest.raises(TimeoutError, match="no game connected within 0.2 s at /env/0"):
        hub.wait_for_games(timeout=0.2)
    assert "waiting for games on " + hub.url() in capfd.readouterr().err


def test_custom_slot_ids_and_prefix(hub_factory) -> None:
    hub = hub_factory(games=["left", "right"], path_prefix="/arena/")
    with connect(hub.url() + "/arena/right") as ws:
        ws.send(hello())
        assert hub.wait_for_connection("right", timeout=30).path == "/arena/right"
    assert refusal(hub.url() + "/env/left", hello()) == (
        CloseCode.UNKNOWN_SLOT, "no slot at /env/left: this hub serves /arena/left, /arena/right")


def test_unknown_paths_are_closed_with_a_reason(hub_factory, launch) -> None:
    hub = hub_factory(games=2)
    assert refusal(hub.url("9"), hello()) == (4404, "no slot at /env/9: this hub serves /env/0, /env/1")
    assert refusal(hub.url() + "/", hello())[0] == 4404
    game = launch(hub.url(), "9")
    assert game.wait() == 2
    assert "refused by the hub: 4404 no slot at /env/9: this hub serves /env/0, /env/1" in game.stderr()
    big = hub_factory(games=8)
    assert refusal(big.url("8"), hello())[1] == "no slot at /env/8: this hub serves /env/0 ... /env/7 (8 slots)"


def test_token_in_header_or_query_string(hub_factory, launch) -> None:
    hub = hub_factory(games=3, token="s3cret")
    launch(hub.url(), 0, "--token", "s3cret")  # sent as Authorization: Bearer s3cret
    assert hub.wait_for_connection("0", timeout=30).name == "cartpole"
    with connect(hub.url("1") + "?x=1&token=s3cret") as ws:
        ws.send(hello())
        assert hub.wait_for_connection("1", timeout=30).name == "scripted"
    wrong = launch(hub.url(), 2, "--token", "guess")
    assert wrong.wait() == 2  # refused for good, before the upgrade
    assert "refused the WebSocket upgrade with HTTP 401 Unauthorized; body: \"missing or wrong token\"" in \
        wrong.stderr()
    for url in (hub.url("2"), hub.url("2") + "?token=S3CRET"):
        with pytest.raises(InvalidStatus) as e:
            connect(url)
        assert e.value.response.status_code == 401
    assert "2" not in hub.games()


def test_a_taken_slot_is_refused_and_the_game_retries_until_it_is_free(hub_factory, launch, caplog) -> None:
    caplog.set_level(logging.INFO, logger="wsbridge")
    hub = hub_factory(games=1)
    holder = launch(hub.url(), 0)
    first = hub.wait_for_connection("0", timeout=30)
    game = launch(hub.url(), 0)
    game.expect("the hub closed the connection (4409 /env/0 is held by another connection; retry later); reconnecting")
    hub.kick("0", CloseCode.NORMAL, "done with you")
    assert holder.wait() == 0
    second = hub.wait_for_connection("0", newer_than=first.connection, timeout=30)
    assert second.connection == 2 and second.address != first.address
    assert any("reconnected" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "messages, reason",
    [
        (['{"type": "step"}'], "the first message must be 'hello', not 'step'"),
        (["not json"], "the header is not valid JSON"),
        ([b"\x05\x00\x00\x00{}"], "the header length says 5 bytes but the message has 2"),
        ([hello(protocol=2)], "protocol version 2 is not supported (this hub speaks 1)"),
        ([hello(agents=0)], "hello: 'agents' must be a positive integer, not 0"),
        ([hello(observation_space={"type": "sphere"})], "observation_space: unknown space type 'sphere'"),
        ([hello(action_space={"type": "discrete", "n": -1})], "action_space: 'n' must be an integer in [1, 2**63)"),
        # Sizes are checked before anything is allocated from them (issue 12).
        ([hello(action_space={"type": "discrete", "n": 10**30})],
         "action_space: 'n' must be an integer in [1, 2**63), not 1000000000000000000000000000000"),
        ([hello(agents=10**6)], "hello: 'agents' is 1000000, more than the hub's max_agents (4096)"),
        ([hello(agents=4096, observation_space={"type": "box", "shape": [2048], "dtype": "float32", "low": 0,
                                                "high": 1})],
         "hello: 'observation_space' x 4096 agents is 33554432 bytes, more than the hub's max_observation_bytes"),
        ([hello(observation_space={"type": "box", "shape": [0, 2**70], "dtype": "float32", "low": 0, "high": 1})],
         "observation_space: 'shape' must be an integer in [0, 1048577), not 1180591620717411303424"),
        ([hello(observation_space={"type": "box", "shape": [1] * 65, "dtype": "float32", "low": 0, "high": 1})],
         "observation_space: 'shape' must be a list of at most 16 integers (max_space_dims)"),
        (['{"type": "hello", "name": ' + "[" * 30_000 + "]" * 30_000 + "}"], "the header is nested too deeply"),
        ([hello(name="game\nFAKE LOG LINE")], "hello: 'name' must be a string of at most 256 printable characters"),
    ],
)
def test_protocol_violations_are_closed_with_4400_and_the_reason(hub_factory, messages, reason) -> None:
    hub = hub_factory(games=1)
    code, text = refusal(hub.url("0"), *messages)
    assert code == CloseCode.PROTOCOL_VIOLATION
    assert text is not None and text.startswith(reason[:100]) and len(text.encode()) <= 123


def test_a_silent_connection_is_closed_after_the_hello_timeout(hub_factory) -> None:
    hub = hub_factory(games=1, hello_timeout=0.3)
    assert refusal(hub.url("0")) == (4400, "no hello within 0.3 s")


def test_a_reconnection_must_declare_the_same_game_while_its_env_is_open(hub_factory) -> None:
    hub = hub_factory(games=1)
    game = ScriptedGame(hub.url("0"), lambda m: obs_reply(m.type, np.zeros((1, 4), np.float32)))
    env = RemoteVectorEnv(hub, connect_timeout=30, progress=False)
    game.close()
    while (answer := refusal(hub.url("0"), hello(agents=2)))[0] == CloseCode.SLOT_TAKEN:
        pass  # the hub has not yet seen the game go: retry, as games do
    assert answer == (4400, "hello: 'agents' is 2, not 1 as this slot's environment expects")
    env.close()


def test_a_message_over_max_size_closes_with_1009(hub_factory) -> None:
    hub = hub_factory(games=1, max_size=1024)
    assert refusal(hub.url("0"), hello(name="x" * 2000))[0] == 1009


def test_a_bad_answer_raises_in_the_trainer_and_closes_the_game(hub_factory) -> None:
    hub = hub_factory(games=1)
    game = ScriptedGame(hub.url("0"), lambda m: obs_reply(m.type, np.zeros((1, 3), np.float32)))
    env = RemoteVectorEnv(hub, connect_timeout=30, progress=False)
    with pytest.raises(ProtocolError, match=r"/env/0: 'obs' has shape \(1, 3\), expected \(1, 4\) \(1 agents\)"):
        env.reset()
    assert game.ended() == (4400, "/env/0: 'obs' has shape (1, 3), expected (1, 4) (1 agents)")


def test_a_wrong_dtype_or_type_in_an_answer_is_named(hub_factory) -> None:
    hub = hub_factory(games=2)
    ScriptedGame(hub.url("0"), lambda m: obs_reply(m.type, np.zeros((1, 4), np.float64)))
    ScriptedGame(hub.url("1"), lambda m: obs_reply("step", np.zeros((1, 4), np.float32)))
    with pytest.raises(ProtocolError, match="/env/0: 'obs' has dtype float64, expected float32"):
        RemoteVectorEnv(hub, ["0"], connect_timeout=30, progress=False).reset()
    with pytest.raises(ProtocolError, match="/env/1: answered 'reset' with 'step'"):
        RemoteVectorEnv(hub, ["1"], connect_timeout=30, progress=False).reset()


def test_a_game_that_does_not_answer_times_out_and_is_told_to_reconnect(hub_factory) -> None:
    hub = hub_factory(games=1, reply_timeout=0.3)
    game = ScriptedGame(hub.url("0"), lambda m: None)
    env = RemoteVectorEnv(hub, connect_timeout=30, progress=False)
    with pytest.raises(ReplyTimeoutError, match="/env/0: no answer within 0.3 s"):
        env.reset()
    assert game.ended() == (4408, "no answer within 0.3 s")


def test_fragmented_answers_and_a_silent_game_in_one_round_trip(hub_factory) -> None:
    """The batched round trip (wsbridge/batch.py) hands a game whose answer comes in fragments
    back to the per-request path, and times out only the game that stays silent."""
    # 3 s: the answering games share this process's GIL with the test; on a loaded machine 1 s
    # was close.
    hub = hub_factory(games=3, reply_timeout=3)

    def fragmented(m):
        data = obs_reply(m.type, np.full((1, 4), 0.5, np.float32))
        return [data[:7], data[7:20], data[20:]]  # websockets sends an iterable as fragments

    ScriptedGame(hub.url("0"), fragmented)
    ScriptedGame(hub.url("1"), lambda m: obs_reply(m.type, np.full((1, 4), 0.25, np.float32)))
    env = RemoteVectorEnv(hub, ["0", "1"], connect_timeout=30, progress=False)
    obs, _ = env.reset()
    assert obs.tolist() == [[0.5] * 4, [0.25] * 4]
    obs, *_ = env.step(np.zeros(2, np.int64))
    assert obs.tolist() == [[0.5] * 4, [0.25] * 4]
    silent = ScriptedGame(hub.url("2"), lambda m: None)
    both = RemoteVectorEnv(hub, ["1", "2"], connect_timeout=30, progress=False)
    with pytest.raises(ReplyTimeoutError, match="/env/2: no answer within 3 s"):
        both.reset()
    assert silent.ended() == (4408, "no answer within 3 s")


def test_an_answer_over_max_size_on_the_step_path_closes_with_1009(hub_factory) -> None:
    """A step answer read whole by the hub's step path (wsbridge/batch.py) is held to max_size
    as websockets' own parser holds it."""
    hub = hub_factory(games=1, max_size=4096, reconnect_timeout=0)
    game = ScriptedGame(hub.url("0"), lambda m: obs_reply(m.type, np.zeros((1, 4), np.float32)) if m.type == "reset"
                        else b"\0" * 10_000)
    env = RemoteVectorEnv(hub, connect_timeout=30, progress=False)
    env.reset()
    with pytest.raises(GameLostError, match="/env/0 disconnected"):
        env.step(np.zeros(1, np.int64))
    assert game.ended()[0] == 1009


def test_games_reconnect_to_their_slot_after_a_network_cut(hub_factory, launch, proxy_factory, caplog) -> None:
    caplog.set_level(logging.INFO, logger="wsbridge")
    hub = hub_factory(games=2)
    proxy = proxy_factory(hub.port)
    games = [launch(proxy.url(), slot, "--agents", "2") for slot in range(2)]
    env = RemoteVectorEnv(hub, connect_timeout=30, progress=False)
    env.reset(seed=1)
    for _ in range(5):
        env.step(env.action_space.sample())
    proxy.cut()
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    # Both games dropped mid-episode: their episodes end as truncated, and restart next step.
    assert truncated.all() and not terminated.any() and (reward == 0).all()
    assert info["wsbridge_reconnected"].all()
    assert [g.connection for g in hub.games().values()] == [2, 2]
    for game in games:
        game.expect("connection lost (WSB_CONNECTION_LOST")
        game.expect("(connection 2, 2 agents")
    obs, _, terminated, truncated, info = env.step(env.action_space.sample())
    assert not (terminated | truncated).any() and "wsbridge_reconnected" not in info
    assert obs in env.observation_space and (np.abs(obs) <= 0.05).all()  # fresh episodes
    for _ in range(100):
        env.step(env.action_space.sample())
    messages = [r.getMessage() for r in caplog.records]
    for slot in range(2):
        assert any(m.startswith(f"game /env/{slot} connected from 127.0.0.1:") for m in messages)
        assert any(m.startswith(f"game /env/{slot} disconnected") for m in messages)
        assert any(m.startswith(f"game /env/{slot} reconnected from 127.0.0.1:") and "connection #2" in m
                   for m in messages)
    assert proxy.connections == 4


def test_a_game_told_to_go_away_comes_back(hub_factory, launch) -> None:
    hub = hub_factory(games=1)
    game = launch(hub.url(), 0)
    first = hub.wait_for_connection("0", timeout=30)
    hub.kick("0", CloseCode.GOING_AWAY, "trainer restarting")
    game.expect("the hub closed the connection (1001 trainer restarting); reconnecting")
    assert hub.wait_for_connection("0", newer_than=first.connection, timeout=30).connection == 2


def test_a_game_that_does_not_come_back_is_reported_lost(hub_factory, launch) -> None:
    hub = hub_factory(games=1, reconnect_timeout=0.5)
    game = launch(hub.url(), 0)
    env = RemoteVectorEnv(hub, connect_timeout=30, progress=False)
    env.reset()
    game.stop()
    with pytest.raises(GameLostError, match="the game at /env/0 disconnected and did not come back within 0.5 s"):
        env.step(env.action_space.sample())


def test_closing_the_hub_ends_the_games(hub_factory, launch) -> None:
    hub = hub_factory(games=2)
    games = [launch(hub.url(), slot) for slot in range(2)]
    hub.wait_for_games(timeout=30, progress=False)
    hub.close()
    for game in games:
        game.expect("the trainer finished (1000 training finished)")
        assert game.wait() == 0


def test_waiting_for_games_times_out_naming_the_missing_slots(hub_factory) -> None:
    hub = hub_factory(games=3)
    with connect(hub.url("1")) as ws:
        ws.send(hello())
        with pytest.raises(TimeoutError, match=r"no game connected within 0.2 s at /env/0, /env/2"):
            hub.wait_for_games(timeout=0.2, progress=False)


def test_keepalive_is_answered_while_the_training_thread_computes(hub_factory, launch, caplog) -> None:
    # Both sides ping every 50 ms and drop a connection whose pong is 1 s late: the hub's event
    # loop must keep answering while this thread holds the GIL in a computation three times as
    # long. (The timeout was 200 ms: a loaded machine that did not run a process for that long
    # dropped a connection now and then, 1 run in 8.)
    hub = hub_factory(games=["c", "py"], ping_interval=0.05, ping_timeout=1.0)
    launch(hub.url(), "c", "--agents", "1")
    game = ScriptedGame(hub.url("py"), lambda m: obs_reply(m.type, np.zeros((1, 4), np.float32)),
                        ping_interval=0.05, ping_timeout=1.0)
    env_c = RemoteVectorEnv(hub, ["c"], connect_timeout=30, progress=False)
    env_py = RemoteVectorEnv(hub, ["py"], connect_timeout=30, progress=False)
    env_c.reset(seed=0)
    env_py.reset(seed=0)
    total, end = 0, time.monotonic() + 3.0
    while time.monotonic() < end:  # a busy trainer, not a sleep
        total += sum(i * i for i in range(10_000))
    env_c.step(env_c.action_space.sample())
    env_py.step(env_py.action_space.sample())
    assert [g.connection for g in hub.games().values()] == [1, 1]
    assert not [r for r in caplog.records if "disconnected" in r.getMessage()]
    game.close()


def test_the_hub_reports_a_port_in_use() -> None:
    with wsbridge.Hub(port=0) as first:
        with pytest.raises(OSError):
            wsbridge.Hub(port=first.port).start()


def test_bad_hub_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="distinct ids"):
        wsbridge.Hub(games=["a", "a"])
    with pytest.raises(ValueError, match="path_prefix must start with '/'"):
        wsbridge.Hub(path_prefix="env/")
    assert HELLO["protocol"] == wsbridge.PROTOCOL_VERSION
