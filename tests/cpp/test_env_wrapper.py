"""wsbridge::Env (bindings/cpp/wsbridge_env.hpp) against the real trainer package, beyond the
conformance suite (which runs every protocol case against tests/conformance/spaces_game.cpp):
once running, a step makes no C++ allocation (env_alloc_test.cpp counts every operator new)."""

from __future__ import annotations

import subprocess

import wsbridge
from cpp_build import CPP_BUILD, built

ALLOC_TEST = CPP_BUILD / "tests" / "env_alloc_test"


def test_a_running_env_allocates_nothing_per_step() -> None:
    hub = wsbridge.Hub(port=0, games=1).start()
    game = subprocess.Popen([str(built(ALLOC_TEST)), hub.url(0), "20"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        env = wsbridge.RemoteVectorEnv(hub, connect_timeout=30, progress=False)
        assert env.num_envs == 2
        env.reset(seed=1)
        env.action_space.seed(2)
        for _ in range(300):  # episodes end every 50 steps: autoreset rows are part of the run
            env.step(env.action_space.sample())
        env.close()
        hub.close()  # 1000: the game prints its count and exits
        out, err = game.communicate(timeout=30)
    finally:
        if game.poll() is None:
            game.kill()
            game.communicate()
        hub.close()
    assert game.returncode == 0, out + err
    assert "finished" in out, out
    steady = next(line for line in out.splitlines() if line.startswith("steady "))
    assert steady == "steady 0 (in 280 steps)", f"C++ allocations while stepping: {steady}"
