"""`make soak`: the long runs that do not fit in `make test`.

1. SOAK_CONNECTIONS connections x SOAK_MESSAGES messages (default 200 x 10,000) between
   tests/soak/soak.c and tests/soak/soak_trainer.py: random sizes from 0 B to 256 KiB, random text or
   binary, each message checked byte for byte by the trainer and again, echoed, by the game;
   RSS sampled at start and end.
2. The keepalive run: a game that does not call wsb_recv for 60 s while the server keeps the
   Python `websockets` defaults (ping every 20 s, 20 s timeout) must still be connected.

    python tests/soak/soak.py BUILD_DIR CONNECTIONS MESSAGES SEED IDLE_MS

Prints a summary line per run; exits non-zero if any check failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "servers"))

from launch import Server  # noqa: E402


def soak(build: Path, connections: int, messages: int, seed: int) -> bool:
    with Server(str(ROOT / "tests" / "soak" / "soak_trainer.py")) as trainer:
        game = subprocess.run(
            [str(build / "soak"), str(trainer.port), str(connections), str(messages), str(seed)],
            capture_output=True,
            text=True,
        )
        print(game.stdout + game.stderr, end="", flush=True)
        assert trainer.proc.stdin and trainer.proc.stdout
        trainer.proc.stdin.close()
        summary = json.loads(trainer.proc.stdout.readline() or "{}")
    want = connections * messages
    ok = (
        game.returncode == 0
        and summary.get("messages") == want
        and summary.get("connections") == connections
        and not summary.get("errors")
    )
    print(
        f"soak trainer: {summary.get('connections')} connections closed normally, "
        f"{summary.get('messages')} of {want} messages checked in order, "
        f"{summary.get('bytes', 0) / 2**30:.2f} GiB; errors: {summary.get('errors') or 'none'}"
    )
    return ok


def keepalive(build: Path, idle_ms: int) -> bool:
    # misbehave.py with no ping options keeps the websockets defaults: 20 s ping, 20 s timeout.
    with Server("misbehave.py") as server:
        env = dict(os.environ, WSB_KEEPALIVE_PORT=str(server.port))
        game = subprocess.run(
            [str(build / "fault_test"), "keepalive_idle", str(idle_ms)], env=env, capture_output=True, text=True
        )
    print(game.stdout + game.stderr, end="", flush=True)
    return game.returncode == 0


def main() -> int:
    build, connections, messages, seed, idle_ms = Path(sys.argv[1]), *map(int, sys.argv[2:6])
    ok = soak(build, connections, messages, seed)
    ok = keepalive(build, idle_ms) and ok
    print("make soak: " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
