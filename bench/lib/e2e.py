"""Workload 6, end to end (results.md section 6): a Python trainer stepping G games in lockstep,
over WebSocket (`websockets` server, wsbridge games) and over raw length-prefixed TCP (asyncio
streams, raw TCP games), side by side. See bench/e2e/trainer.py and bench/e2e/game.c.

When the trainer package (bindings/python) and its game are built, a third row runs the same
workload through ``wsbridge.RemoteVectorEnv`` (bench/e2e/package_trainer.py).

Workload 7 (section 7) runs the trainer package against the raw TCP trainer and Godot RL Agents'
trainer side (bench/e2e/godot_trainer.py) on G games of K agents each (TRAINER_GAMES,
TRAINER_AGENTS).

Besides env steps/s and the step round trip, each run reports the CPU time per env step of the
trainer process and of the games' process (from their rusage), which shows which side of the
link the time goes to.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .plan import Plan

TRANSPORTS = ("ws", "ws-spin-off", "tcp")
#: The games of "ws-spin-off" are those of "ws" with wsbridge's spin disabled (`spin_budget_us` 0).
SPIN_OFF_ENV = {"WSB_BENCH_OPTIONS": '{"spin_budget_us": 0}'}
PACKAGE = "package"  # the trainer package's Hub + RemoteVectorEnv, with its cartpole games
GODOT = "godot-rl"  # Godot RL Agents' trainer side (GodotEnv), with a cartpole speaking its protocol

#: Workload 7 (the trainer package against its baseline and its peer): G games of K agents each,
#: random actions, one game process per game in every row. Its raw TCP row sends K x 8 B of
#: actions and gets K x 32 B back per game (a cartpole agent's 4 float32 observations, a float64
#: reward and two flags, padded).
TRAINER_TRANSPORTS = ("tcp", PACKAGE, GODOT)
TRAINER_GAMES = (1, 8, 64, 256)
TRAINER_AGENTS = (1, 16)
RAW_ACTION_BYTES, RAW_OBS_BYTES = 8, 32


@dataclass
class E2E:
    root: Path
    build: Path
    python: Path
    logs: Path
    cartpole: Path | None  # the trainer package's game (examples/game), when it is built
    #: Other versions of the package, measured side by side with this one (run.py
    #: --package-version NAME=SRC): transport "package@NAME" imports wsbridge from SRC.
    versions: dict[str, Path] = field(default_factory=dict)

    @property
    def godot_game(self) -> Path:
        """bench/e2e/godot_game.c as built by mk/bench.mk (GodotEnv wants the .x86_64 suffix)."""
        return self.build / "godot_game.x86_64"

    #: More arguments for the package's trainer (bench/profile.py --trainer: --profile DIR).
    package_args: tuple[str, ...] = ()

    def trainer(self, plan: Plan, transport: str, games: int, agents: int | None) -> list[str]:
        """The trainer's command; ``agents`` is None for workload 6 (1 agent, fixed message sizes)."""
        common = ["--games", str(games), "--seconds", str(plan.e2e_seconds), "--warmup", str(plan.e2e_warmup_steps)]
        k = ["--agents", str(agents)] if agents is not None else []
        if transport.split("@")[0] == PACKAGE:
            return [str(self.python), str(self.root / "bench/e2e/package_trainer.py"), *common, *k, *self.package_args]
        if transport == GODOT:
            return [str(self.python), str(self.root / "bench/e2e/godot_trainer.py"), *common, *k,
                    "--game", str(self.godot_game)]
        action = plan.e2e_action_bytes if agents is None else RAW_ACTION_BYTES * agents
        return [str(self.python), str(self.root / "bench/e2e/trainer.py"), "--transport", transport.split("-")[0], *common,
                *k, "--action-bytes", str(action)]

    def games(self, plan: Plan, transport: str, games: int, agents: int | None, port: str) -> list[list[str]]:
        if transport == GODOT:
            return []  # GodotEnv launches its games itself
        if transport.split("@")[0] == PACKAGE:
            assert self.cartpole
            k = ["--agents", str(agents)] if agents is not None else []
            return [[str(self.cartpole), f"ws://127.0.0.1:{port}", str(i), "--quiet", *k] for i in range(games)]
        binary = self.build / ("game_tcp" if transport == "tcp" else "game_wsb")
        if agents is None:  # workload 6: all games in one process, a thread each
            return [[str(binary), port, str(games), str(plan.e2e_obs_bytes)]]
        # Workload 7: one process per game, as the package's and Godot RL's games run.
        return [[str(binary), port, "1", str(RAW_OBS_BYTES * agents), str(i)] for i in range(games)]

    def run(self, plan: Plan, transport: str, games: int, agents: int | None = None) -> dict:
        log = open(self.logs / f"e2e-{transport}.log", "ab")
        version = self.versions.get(transport.partition("@")[2])
        trainer = subprocess.Popen(self.trainer(plan, transport, games, agents), stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=log,
                                   env=dict(os.environ, PYTHONPATH=str(version)) if version else None)
        players: list[subprocess.Popen] = []
        try:
            line = self.read_line(trainer, 60)
            if not line.startswith("PORT "):
                return {"error": f"trainer did not start ({line!r}); see {log.name}"}
            port = line.split()[1]
            env = dict(os.environ, **(SPIN_OFF_ENV if transport == "ws-spin-off" else {}))
            players = [subprocess.Popen(cmd, stdout=log, stderr=log, env=env)
                       for cmd in self.games(plan, transport, games, agents, port)]
            line = self.read_line(trainer, plan.e2e_seconds + 120)
            if not line.startswith("{"):
                return {"error": f"trainer gave no result ({line!r}); see {log.name}"}
            result = json.loads(line)
            game_cpu = sum(self.reap(p, 60) for p in players)
            trainer_cpu = self.reap(trainer, 60)  # it exits once it has printed its result
            if "trainer_cpu_seconds" in result:  # the trainer launched its games: it measured both
                trainer_cpu, game_cpu = result["trainer_cpu_seconds"], result["game_cpu_seconds"]
            # CPU covers the warmup too; per env step (an agent's step).
            steps = result["envs"] * (result["steps"] + plan.e2e_warmup_steps)
            result["game_cpu_us_per_step"] = game_cpu / steps * 1e6
            result["trainer_cpu_us_per_step"] = trainer_cpu / steps * 1e6
            return result
        finally:
            for p in [*players, trainer]:
                if p.returncode is None:
                    p.kill()
                    p.wait()
            if trainer.stdin:
                trainer.stdin.close()
            log.close()

    @staticmethod
    def read_line(proc: subprocess.Popen, timeout: float) -> str:
        assert proc.stdout
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                return f"<nothing within {timeout:.0f} s>"
        return proc.stdout.readline().decode().strip()

    @staticmethod
    def reap(proc: subprocess.Popen, timeout: float) -> float:
        """Waits for the process (killed past `timeout`); its user + system CPU seconds."""
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        return usage.ru_utime + usage.ru_stime
