"""The package launches and supervises games (issue 16 item 3): the C cartpole started from a
command with its slot in argv or in the environment, restarted after a crash up to a limit,
killed with its process group on close, its output kept in a log file per game."""

from __future__ import annotations

import logging
import os
import select
import signal

import numpy as np
import pytest
from conftest import GAME

import wsbridge


def gone(pid: int, timeout: float = 30) -> bool:
    """Whether process ``pid`` ends within ``timeout`` s (a signal is delivered asynchronously:
    this waits on a pidfd, which becomes readable when the process exits, even if nobody reaps it)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


def test_launched_games_train_and_close_takes_everything_down(tmp_path) -> None:
    env = wsbridge.make_vector_env([str(GAME), "{hub}", "{slot}", "--agents", "2"], games=3, log_dir=tmp_path,
                                   progress=False)
    hub, launcher = env.hub, env.launcher
    assert env.num_envs == 6 and env.games == ["/env/0", "/env/1", "/env/2"]
    pids = launcher.pids()
    assert all(pid is not None for pid in pids.values())
    env.reset(seed=0)
    for _ in range(20):
        env.step(env.action_space.sample())
    env.close()
    assert all(gone(pid) for pid in pids.values() if pid is not None)
    with pytest.raises(RuntimeError, match="the hub is not started"):
        hub.send([])
    for slot in range(3):  # each game's output, in its own file; they exited on the hub's 1000
        log = (tmp_path / f"game-{slot}.log").read_text()
        assert f"cartpole /env/{slot}: connected" in log and "the trainer finished (1000" in log
    assert launcher.restarts() == {"0": 0, "1": 0, "2": 0}


def test_a_crashed_game_is_restarted_and_training_goes_on(tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="wsbridge")
    env = wsbridge.make_vector_env([str(GAME), "{hub}", "{slot}"], games=2, log_dir=tmp_path, progress=False)
    try:
        env.reset(seed=0)
        first = env.hub.games()["1"]
        os.kill(env.launcher.pids()["1"], signal.SIGKILL)
        env.hub.wait_for_connection("1", newer_than=first.connection, timeout=30)
        _, _, _, truncated, info = env.step(np.array([0, 1]))
        assert truncated[1] and info["wsbridge_reconnected"][1]  # its episode ended with the crash
        _, reward, _, truncated, _ = env.step(np.array([0, 1]))  # its new episode starts
        assert reward.tolist() == [1, 0] and not truncated.any()
        _, reward, *_ = env.step(np.array([0, 1]))
        assert (reward == 1).all()
        assert env.launcher.restarts() == {"0": 0, "1": 1}
        assert any("game /env/1 (pid" in r.getMessage() and "exited with status -9; restarting it (1 of 3)"
                   in r.getMessage() for r in caplog.records)
    finally:
        env.close()


def test_a_game_that_keeps_failing_is_reported_with_its_last_lines(tmp_path) -> None:
    # --agents 0 is refused by the game's argument check: it prints its usage and exits.
    with pytest.raises(RuntimeError) as e:
        wsbridge.make_vector_env([str(GAME), "{hub}", "{slot}", "--agents", "0"], games=2, log_dir=tmp_path,
                                 max_restarts=1, progress=False)
    message = str(e.value)
    assert "game /env/0: exited with status 2 after 1 restarts (max_restarts)" in message
    assert f"log {tmp_path / 'game-0.log'}: " in message and "usage: " in message
    assert "game /env/1: exited with status 2" in message


def test_slot_and_token_reach_the_game_in_its_environment_and_the_group_is_killed(tmp_path) -> None:
    script = ('sleep 1000 & echo "url={url} env=$WSBRIDGE_URL port={port} child=$!"; '
              'exec "$GAME" "$WSBRIDGE_HUB" "$WSBRIDGE_SLOT" --token "$WSBRIDGE_TOKEN"')
    env = wsbridge.make_vector_env(["sh", "-c", script], games=["a"], token="s3cret", log_dir=tmp_path,
                                   game_env={"GAME": str(GAME)}, progress=False)
    url = env.hub.url("a")
    env.reset()
    env.close()
    first = (tmp_path / "game-a.log").read_text().splitlines()[0]
    assert first.startswith(f"url={url} env={url} port={env.hub.port} child=")
    assert "s3cret" not in " ".join(env.launcher.argv("a"))
    assert gone(int(first.rsplit("=", 1)[1]))  # the game's own child, killed with its process group


def test_games_launched_by_someone_else_still_work(hub_factory, launch) -> None:
    hub = hub_factory(games=2)
    for slot in range(2):
        launch(hub.url(), slot)
    env = wsbridge.make_vector_env(hub=hub, games=2, progress=False)  # no command: nothing launched
    env.reset()
    env.step(np.array([0, 1]))
    assert env.launcher is None
    env.close()
    assert hub.url().startswith("ws://")  # not the env's: still open
    assert len(hub.games()) == 2
