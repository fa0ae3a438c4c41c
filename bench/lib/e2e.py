"""Workload 5, end to end: a Python trainer stepping G games in lockstep, over WebSocket
(`websockets` server, wsbridge games) and over raw length-prefixed TCP (asyncio streams, raw TCP
games), side by side. See bench/e2e/trainer.py and bench/e2e/game.c.

When the trainer package (bindings/python) and its game are built, a third row runs the same
workload through ``wsbridge.RemoteVectorEnv`` (bench/e2e/package_trainer.py).

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
from dataclasses import dataclass
from pathlib import Path

from .plan import Plan

TRANSPORTS = ("ws", "tcp")
PACKAGE = "package"  # the trainer package's Hub + RemoteVectorEnv, with its cartpole games


@dataclass
class E2E:
    root: Path
    build: Path
    python: Path
    logs: Path
    cartpole: Path | None  # the trainer package's game (examples/game), when it is built

    def trainer(self, plan: Plan, transport: str, games: int) -> list[str]:
        common = ["--games", str(games), "--seconds", str(plan.e2e_seconds), "--warmup", str(plan.e2e_warmup_steps)]
        if transport == PACKAGE:
            return [str(self.python), str(self.root / "bench/e2e/package_trainer.py"), *common]
        return [str(self.python), str(self.root / "bench/e2e/trainer.py"), "--transport", transport, *common,
                "--action-bytes", str(plan.e2e_action_bytes)]

    def games(self, plan: Plan, transport: str, games: int, port: str) -> list[list[str]]:
        if transport == PACKAGE:
            assert self.cartpole
            return [[str(self.cartpole), f"ws://127.0.0.1:{port}", str(i), "--quiet"] for i in range(games)]
        binary = self.build / ("game_wsb" if transport == "ws" else "game_tcp")
        return [[str(binary), port, str(games), str(plan.e2e_obs_bytes)]]

    def run(self, plan: Plan, transport: str, games: int) -> dict:
        log = open(self.logs / f"e2e-{transport}.log", "ab")
        trainer = subprocess.Popen(self.trainer(plan, transport, games), stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=log)
        players: list[subprocess.Popen] = []
        try:
            line = self.read_line(trainer, 60)
            if not line.startswith("PORT "):
                return {"error": f"trainer did not start ({line!r}); see {log.name}"}
            port = line.split()[1]
            players = [subprocess.Popen(cmd, stdout=log, stderr=log) for cmd in self.games(plan, transport, games, port)]
            line = self.read_line(trainer, plan.e2e_seconds + 120)
            if not line.startswith("{"):
                return {"error": f"trainer gave no result ({line!r}); see {log.name}"}
            result = json.loads(line)
            game_cpu = sum(self.reap(p, 60) for p in players)
            trainer_cpu = self.reap(trainer, 60)  # it exits once it has printed its result
            steps = result["games"] * (result["steps"] + plan.e2e_warmup_steps)  # CPU covers the warmup too
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
