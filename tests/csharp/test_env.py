"""The Unity package's env API under Mono against the real trainer package (wsbridge.Hub and
RemoteVectorEnv): the C# cartpole (examples/csharp/Cartpole.cs, on EnvAgent/EnvDriver) trained
by the demo's cross-entropy method until its mean return rises; the driver's steady state
allocates nothing; per-frame polling never blocks a frame; same-step autoreset of a dict
observation with engine settings. (The protocol itself is checked for C# by tests/conformance,
implementation "csharp".)"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

import wsbridge

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("WSB_BUILD_DIR", ROOT / "build")) / "csharp"
sys.path.insert(0, str(ROOT / "tools"))

from demo_train import train  # noqa: E402  the trainer of `make demo` and of the C game's training test
from process import Process  # noqa: E402  tests/servers (tests/csharp/conftest.py puts it on the path)


class Mono(Process):
    """A Mono program; ``expect(start)`` waits for a stdout line starting with ``start``."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        exe = BUILD / args[0]
        if not exe.exists():
            raise RuntimeError(f"{exe} is missing: run `make test-unity`")
        super().__init__(["mono", "--debug", str(exe), *args[1:]], env=env)

    def expect(self, text: str, timeout: float = 60) -> str:
        return self.expect_start(text, timeout)

    def finish(self, timeout: float = 60) -> str:
        """Waits for the exit; returns stdout; fails with everything printed if the status is not 0."""
        status = self.proc.wait(timeout=timeout)
        self.out.rest(timeout)  # the reader reaches the end of stdout
        text = "\n".join(self.seen)
        assert status == 0, text + (self.proc.stderr.read() if self.proc.stderr else "")
        return text


@pytest.fixture
def mono() -> Iterator[list[Mono]]:
    started: list[Mono] = []
    yield started
    for p in started:
        p.stop()


def test_the_csharp_cartpole_trains_and_its_mean_return_rises(mono: list[Mono]) -> None:
    """As tests/python/test_training.py for the C game: two processes of two carts."""
    with wsbridge.Hub(games=2, port=0) as hub:
        for slot in range(2):
            mono.append(Mono("Cartpole.exe", hub.url(), str(slot), "--agents", "2", "--max-steps", "200"))
        env = wsbridge.RemoteVectorEnv(hub, connect_timeout=60, progress=False)
        history = train(env, generations=6, seed=0, progress=False)
        env.close()
    means = [m for _, m in history.generations]
    print(f"C# cartpole: mean return per generation {means}, {history.env_steps / history.seconds:.0f} env steps/s")
    assert len(means) == 6 and len(history.episodes) == 6 * 32
    assert means[-1] > 2 * means[0] and max(means) > 150, f"mean return per generation: {means}"
    for game in mono:
        assert "the trainer finished (1000 training finished)" in game.finish()


def run_case(case: str, steps: int, actions: int = 3, wait_for: str | None = None) -> str:
    """Starts WsbridgeTests.exe CASE against a hub slot, resets, (waits for a line), steps
    ``steps`` times with known actions, closes the hub (1000) and returns the case's output."""
    with wsbridge.Hub(games=1, port=0) as hub:
        env_vars = dict(os.environ, WSB_ENV_URL=hub.url(0))
        case_proc = Mono("WsbridgeTests.exe", case, env=env_vars)
        try:
            env = wsbridge.RemoteVectorEnv(hub, connect_timeout=60, progress=False)
            env.reset(seed=0)
            if wait_for is not None:
                case_proc.expect(wait_for)
            total = 0
            for i in range(steps):
                a = np.full(env.num_envs, i % actions, dtype=np.int64)
                total += int(a.sum())
                env.step(a)
            env.close()
            hub.close()
            out = case_proc.finish()
        finally:
            case_proc.stop()
    return out + f"\ntrainer sent action sum {total}"


def test_the_env_driver_allocates_nothing_per_step() -> None:
    out = run_case("Env.DriverStepsWithoutAllocating", steps=3000)
    assert "allocated " in out and "passed" in out, out
    print(out)


def test_per_frame_polling_never_blocks_a_frame() -> None:
    steps = 40
    out = run_case("Env.PerFramePollingNeverBlocks", steps=steps, wait_for="idle 50")
    assert "passed" in out, out
    # The reset and every step were served, each action applied once.
    served = next(line for line in out.splitlines() if line.startswith("served "))
    sent = sum(i % 3 for i in range(steps))
    assert served == f"served {steps + 1} decisions {steps} action sum {sent}", out


def test_the_env_driver_resets_in_the_same_step_with_a_dict_observation_and_engine_settings() -> None:
    """EnvDriver.PartialReset under RemoteVectorEnv's SAME_STEP autoreset, with a dict observation
    (EnvTests.SensorAgent: count, flags, pos) and engine settings: every step is a real one (the
    action's reward, no junk step), the answer that ends an episode carries its final observation
    and the next episode's first, and the driver stays allocation-free (checked by the case)."""
    steps = 1200
    with wsbridge.Hub(games=1, port=0) as hub:
        case = Mono("WsbridgeTests.exe", "Env.DriverResetsInTheSameStepWithADictObservationAndSettings",
                    env=dict(os.environ, WSB_ENV_URL=hub.url(0)))
        try:
            env = wsbridge.RemoteVectorEnv(hub, connect_timeout=60, progress=False, autoreset_mode=AutoresetMode.SAME_STEP)
            assert env.single_observation_space == spaces.Dict({
                "count": spaces.Discrete(1000), "flags": spaces.MultiBinary(2),
                "pos": spaces.Box(-np.inf, np.inf, (2,), np.float32)})
            obs, _ = env.reset(seed=0)
            env.set_engine_settings(time_scale=20, target_frame_rate=-1, quality_level=2, camera="top")
            assert case.expect("settings ") == 'settings 20 -1 2 "top"'
            episodes, t = [0, 0, 0], [0, 0, 0]
            assert obs["pos"].tolist() == [[0, 0]] * 3 and obs["count"].tolist() == [0, 0, 0]
            for k in range(steps):
                actions = np.full(3, 1 + k % 2, dtype=np.int64)
                obs, reward, terminated, truncated, info = env.step(actions)
                assert reward.tolist() == actions.tolist(), k  # no 0-reward junk step
                for i in range(3):
                    t[i] += 1
                    ended = t[i] == 3 + i
                    assert (terminated[i], truncated[i]) == (ended and i % 2 == 0, ended and i % 2 == 1), (k, i)
                    if ended:
                        final = info["final_obs"][i]
                        assert (int(final["count"]), final["flags"].tolist(), final["pos"].tolist()) == \
                            (episodes[i], [1, i % 2], [3 + i, actions[i]]), (k, i)
                        episodes[i] += 1
                        t[i] = 0
                    else:
                        assert "final_obs" not in info or not info["_final_obs"][i]
                    row = (int(obs["count"][i]), obs["flags"][i].tolist(), obs["pos"][i].tolist())
                    assert row == (episodes[i], [0, i % 2], [t[i], actions[i] if t[i] else 0]), (k, i, row)
            env.close()
            hub.close()
            out = case.finish()
        finally:
            case.stop()
    # The reset and every step; when the last step ended episodes, their same-step Reset is served
    # by an Update of its own (the trainer's close comes next, not another step).
    served = steps + 1 + (t.count(0) > 0)
    assert "passed" in out and f"served {served} requests, {sum(episodes)} episodes" in out, out
