"""RLlib on a multi-node Ray cluster simulated on this machine (``ray.cluster_utils.Cluster``: a
head without CPUs and two worker nodes with their own addresses, 127.0.0.2 and 127.0.0.3), fed
by games that know only the lobby's URL (docs/deploy.md, *Trainers on a Ray cluster*).

Each EnvRunner's hub binds its node's address and registers with the lobby; the cartpole games
(``--lobby``) are started by the test, outside Ray, and are assigned a slot of whichever runner
has room. Then one EnvRunner is killed: RLlib restarts it, its new hub registers anew, the
killed hub's games go back to the lobby and land on it, and training goes on.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
from conftest import Game
from ray.cluster_utils import Cluster
from ray.rllib.algorithms.ppo import PPOConfig

import wsbridge.rllib

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))
from lobby_process import LobbyProcess  # noqa: E402

#: The worker nodes' addresses: every runner's hub binds one of them and advertises it.
NODES = ("127.0.0.2", "127.0.0.3")
GAMES, AGENTS = 2, 2  # per EnvRunner
#: The game's line once connected to a slot (examples/game/main.c).
CONNECTED = re.compile(r"connected to (wss?://[^ ,]+), assigned by the lobby")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """The head runs the driver and holds no CPU: both EnvRunners (1 CPU each) go to the workers."""
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    try:
        for address in NODES:
            nodes.add_node(num_cpus=1, node_ip_address=address)
        ray.init(address=nodes.address, log_to_driver=True)
        nodes.wait_for_nodes()
        yield nodes
    finally:
        ray.shutdown()
        nodes.shutdown()


@pytest.fixture
def lobby() -> Iterator[LobbyProcess]:
    """``python -m wsbridge.lobby`` in its own process, as deployed (docs/deploy.md)."""
    running = LobbyProcess()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def games(launch: Callable[..., Game], lobby: LobbyProcessProcess) -> Callable[[int], list[Game]]:
    """``games(n)``: n cartpole processes given only the lobby's URL (killed after the test)."""
    def start(n: int) -> list[Game]:
        # Game(url, slot, *args) runs GAME url slot args: here GAME --lobby <lobby url> args.
        # They wait in the lobby as long as the runners take to start (no give-up: how long a Ray
        # cluster takes to start its runners on a busy machine is not this test's to bound); the
        # fixture kills them after the test.
        return [launch("--lobby", lobby.url("/lobby"), "--agents", str(AGENTS), "--max-steps", "200",
                       "--reconnect-timeout", "-1") for _ in range(n)]
    return start


def ppo(name: str, lobby: LobbyProcess, **fault_tolerance: Any) -> Any:
    config = wsbridge.rllib.configure(PPOConfig(), name=name, games=GAMES, agents=AGENTS,
                                      lobby=lobby.url("/lobby/hubs"), connect_timeout=120)
    return (config.env_runners(num_env_runners=len(NODES), rollout_fragment_length=125)
            .training(train_batch_size_per_learner=1000, minibatch_size=250, num_epochs=6, lr=0.0003,
                      vf_loss_coeff=0.01)
            .fault_tolerance(**fault_tolerance)
            .debugging(seed=0))


def runners(algo: Any) -> dict[int, dict[str, Any]]:
    """Every healthy remote EnvRunner, by its index: its node, process, hub and games."""
    def describe(runner: Any) -> dict[str, Any]:
        import os

        env = runner.env.unwrapped
        return {"index": wsbridge.rllib.runner_index(name), "ip": ray.util.get_node_ip_address(),
                "pid": os.getpid(), "hub": env.hub.url(), "actor": ray.get_runtime_context().current_actor,
                "steps": len(env.round_trips),
                "games": {slot: game.address for slot, game in env.hub.games().items()}}

    name = algo.config.env
    return {r["index"]: r for r in algo.env_runner_group.foreach_env_runner(describe, local_env_runner=False)}


def assignment(game: Game) -> str:
    """The slot URL the lobby gave ``game`` next (waits for the game's "connected" line)."""
    while True:
        match = CONNECTED.search(game.expect("connected to", timeout=120))
        if match:
            return match.group(1)


def test_ppo_on_a_cluster_learns_from_lobby_games_and_gets_them_back_after_a_runner_is_killed(
        cluster, lobby, games) -> None:
    started = games(GAMES * len(NODES))  # before the runners exist: they wait in the lobby
    algo = ppo("cartpole-lobby", lobby, restart_failed_env_runners=True).build_algo()
    try:
        first = [assignment(g) for g in started]
        before = runners(algo)
        # One runner per worker node, each hub on its node's address, each full of lobby games.
        assert sorted(r["ip"] for r in before.values()) == sorted(NODES), before
        for r in before.values():
            assert r["hub"].startswith(f"ws://{r['ip']}:") and len(r["games"]) == GAMES, before
        assert sorted(first) == sorted(f"{r['hub']}/env/{s}" for r in before.values() for s in r["games"]), first

        returns = [float(algo.train()["env_runners"]["episode_return_mean"]) for _ in range(3)]

        victim = before[1]
        killed = time.monotonic()
        ray.kill(victim["actor"], no_restart=False)  # RLlib's actors have max_restarts: Ray restarts it
        orphans = [g for g, url in zip(started, first) if url.startswith(victim["hub"] + "/")]
        assert len(orphans) == GAMES, (first, victim)
        returns.append(float(algo.train()["env_runners"]["episode_return_mean"]))  # with the other runner

        # The killed hub's games go back to the lobby (its port is closed for good) and are
        # assigned to the restarted runner's new hub, which registered anew.
        second = [assignment(g) for g in orphans]
        assert not any(url.startswith(victim["hub"] + "/") for url in second), second
        serving = time.monotonic() - killed
        # Training goes on until RLlib's health probe finds the restarted runner done building its
        # env (Ray answers "restarting" until then) and takes it back into service.
        deadline = time.monotonic() + 180
        while algo.env_runner_group.num_healthy_remote_workers() < len(NODES) and time.monotonic() < deadline:
            returns.append(float(algo.train()["env_runners"]["episode_return_mean"]))
        after = runners(algo)
        assert sorted(after) == sorted(before) and after[1]["pid"] != victim["pid"], (before, after)
        assert sorted(second) == sorted(f"{after[1]['hub']}/env/{s}" for s in after[1]["games"]), (second, after)
        assert after[0]["pid"] == before[0]["pid"] and len(after[0]["games"]) == GAMES, (before, after)
        # Every game process is the one started before the fault: none was relaunched.
        assert all(g.proc.poll() is None for g in started)

        # Both runners step their games again (the restarted one through its new hub), and the
        # return keeps rising.
        returns += [float(algo.train()["env_runners"]["episode_return_mean"]) for _ in range(2)]
        later = runners(algo)
        assert all(later[i]["steps"] > after[i]["steps"] for i in later), (after, later)
        print(f"RLlib PPO on 2 nodes through the lobby, runner 1 killed after iteration 3: mean episode return "
              f"per iteration {[round(r, 1) for r in returns]}; the killed runner's games were connected to its "
              f"restarted hub {serving:.1f} s after the kill")
        assert returns[-1] > 2 * returns[0], returns
    finally:
        algo.stop()
    # algo.stop() closed the hubs with 1000: the games know training is over.
    assert [g.wait(timeout=30) for g in started] == [0] * len(started)
