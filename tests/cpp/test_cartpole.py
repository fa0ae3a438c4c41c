"""The C++ cartpole (examples/cpp/cartpole.cpp, on wsbridge::Env) trained by the trainer
package's RemoteVectorEnv: the Python package's own short training run
(tests/python/test_training.py::short_training_run) must raise its mean return. The C
cartpole runs the same training in the same test, so the env steps/s of both are measured side
by side; they are printed and written to $WSB_CPP_BUILD_DIR/cartpole_steps.txt, not asserted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import wsbridge
from cpp_build import CPP_BUILD, ROOT, built

sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests" / "python"))
from test_training import short_training_run  # noqa: E402

GAMES = {
    "cpp": CPP_BUILD / "examples" / "cartpole",
    "c": Path(os.environ.get("WSB_C_CARTPOLE", ROOT / "build" / "game" / "cartpole")),
}


def train_with(game: Path) -> tuple[float, list[float]]:
    """Two processes of `game` with two carts each on one hub; returns env steps/s and the mean
    return per generation."""
    hub = wsbridge.Hub(port=0, games=2).start()
    procs = [subprocess.Popen([str(built(game)), hub.url(), str(slot), "--agents", "2", "--max-steps", "200",
                               "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for slot in range(2)]
    try:
        env = wsbridge.RemoteVectorEnv(hub, connect_timeout=30, progress=False)
        history = short_training_run(env)
        env.close()
        hub.close()
        for p in procs:  # the trainer closed with 1000: each game says "finished" and exits 0
            out, err = p.communicate(timeout=30)
            assert p.returncode == 0, f"{game} exited {p.returncode}: {err}"
        return history.env_steps / history.seconds, [round(m, 1) for _, m in history.generations]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        hub.close()


def test_the_cpp_cartpole_trains_and_runs_beside_the_c_one() -> None:
    rates = {name: train_with(GAMES[name]) for name in ("cpp", "c")}
    line = "cartpole env steps/s (2 games x 2 carts, lockstep): " + ", ".join(
        f"{name} {rate:,.0f} (mean return per generation {means})" for name, (rate, means) in rates.items())
    line += f"; cpp/c {rates['cpp'][0] / rates['c'][0]:.2f}"
    print(line)
    (CPP_BUILD / "cartpole_steps.txt").write_text(line + "\n")
