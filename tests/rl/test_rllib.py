"""RLlib's new API stack through ``wsbridge.rllib.configure``: PPO with one remote EnvRunner
whose hub launches its own games; the return must rise. Then an env rebuild (what RLlib does
after a fault) must release the old hub and games, and ``algo.stop()`` everything."""

from __future__ import annotations

import logging
import sys

import ray
from conftest import GAME
from test_launch import gone
from ray.rllib.algorithms.ppo import PPOConfig

import wsbridge.rllib


@ray.remote(num_cpus=0)
class Runner:
    """Stands for an EnvRunner actor asking for its index."""

    def index(self, name: str) -> int:
        return wsbridge.rllib.runner_index(name)


def runner_games(algo) -> list[tuple[int, str, list[int | None]]]:
    """(runner index, hub URL, game pids) of every remote EnvRunner's environment."""
    def describe(runner):
        env = runner.env.unwrapped
        return (wsbridge.rllib.runner_index("cartpole"), env.hub.url(), list(env.launcher.pids().values()))
    return algo.env_runner_group.foreach_env_runner(describe, local_env_runner=False)


def test_ppo_learns_with_a_hub_per_env_runner(tmp_path) -> None:
    # address="local": a Ray of its own. Without it ray.init() joins any cluster it finds running on
    # this machine (a gcs_server in the process list, /tmp/ray/ray_current_cluster), such as one
    # another `make test` on the same machine is using, and then refuses num_cpus.
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=True)
    try:
        config = wsbridge.rllib.configure(
            PPOConfig(), [str(GAME), "{hub}", "{slot}", "--agents", "2", "--max-steps", "200", "--quiet"],
            name="cartpole", games=2, agents=2, log_dir=tmp_path)
        config = (config.env_runners(num_env_runners=1, rollout_fragment_length=250)
                  .training(train_batch_size_per_learner=1000, minibatch_size=250, num_epochs=6, lr=0.0003,
                            vf_loss_coeff=0.01)
                  .debugging(seed=0))
        assert config.num_envs_per_env_runner == 4 and config.gym_env_vectorize_mode == "vector_entry_point"
        algo = config.build_algo()
        returns = []
        for _ in range(6):
            result = algo.train()
            returns.append(float(result["env_runners"]["episode_return_mean"]))
        print(f"RLlib PPO: mean episode return per iteration {[round(r, 1) for r in returns]}")
        assert returns[-1] > 2 * returns[0], returns

        # The hub's INFO lines go to the runner's stderr, which Ray forwards to the driver.
        assert algo.env_runner_group.foreach_env_runner(lambda r: logging.getLogger("wsbridge").isEnabledFor(
            logging.INFO) and any(getattr(h, "stream", None) is sys.stderr for h in logging.getLogger(
                "wsbridge").handlers), local_env_runner=False) == [True]
        [(index, url, pids)] = runner_games(algo)
        assert index == 0 and all(p is not None for p in pids)
        # A rebuild (as after a fault) closes the old env: its games are killed, its port freed.
        algo.env_runner_group.foreach_env_runner(lambda r: r.make_env(), local_env_runner=False)
        [(index_after, url_after, pids_after)] = runner_games(algo)
        assert index_after == index and set(pids).isdisjoint(pids_after)
        assert all(gone(p) for p in pids if p is not None)
        algo.stop()
        assert all(gone(p) for p in pids_after if p is not None)
        logs = sorted(p.name for p in (tmp_path / "runner-0").iterdir())
        assert logs == ["game-0.log", "game-1.log"], logs

        # Without a worker_index, each runner (actor) still gets its own index, the same every time.
        runners = [Runner.remote() for _ in range(3)]
        first = ray.get([r.index.remote("other") for r in runners])
        assert sorted(first) == [0, 1, 2] and ray.get([r.index.remote("other") for r in runners]) == first
    finally:
        ray.shutdown()


def test_lobby_settings_that_cannot_work_are_refused_when_registering() -> None:
    lobby = "ws://127.0.0.1:9000/lobby/hubs"
    cases = {
        "only apply with lobby=": dict(base_port=8100, advertise="ws://{ip}:{port}"),
        "games come from the lobby": dict(command=[str(GAME), "{hub}", "{slot}"], lobby=lobby),
        "give a base_port": dict(lobby=lobby, host="0.0.0.0"),
        "it uses node": dict(lobby=lobby, advertise="ws://{node}:8100"),
        "must be a ws:// or wss:// URL": dict(lobby=lobby, advertise="http://edge/{index}"),
        "need a base_port (or a lobby)": dict(),
    }
    for expected, kwargs in cases.items():
        command = kwargs.pop("command", None)
        try:
            wsbridge.rllib.register("refused", command, **kwargs)
        except ValueError as e:
            assert expected in str(e), (kwargs, str(e))
        else:
            raise AssertionError(f"register accepted {kwargs}")
    # A wildcard host with a base_port: every runner's port is known, so it can be advertised.
    assert wsbridge.rllib.register("wildcard", lobby=lobby, host="0.0.0.0", base_port=8100, games=2, agents=3) == 6
    assert wsbridge.rllib.advertised_url("wss://edge/hub/{index}", ip="10.0.0.5", port=8101, index=1) \
        == "wss://edge/hub/1"
    assert wsbridge.rllib.advertised_url("ws://{ip}:{port}", ip="fd00::5", port=8101, index=1) == "ws://[fd00::5]:8101"
