"""The end-to-end workload through the trainer package (bindings/python, issue 6): a
``wsbridge.Hub`` on one port, ``wsbridge.RemoteVectorEnv`` over G cartpole games (examples/game,
C through wsbridge), stepped with random actions.

    python package_trainer.py --games G --seconds T

Prints ``PORT <n>`` once listening (the caller then starts the games with
``cartpole ws://127.0.0.1:<n> <i> --quiet``), then one JSON line like bench/e2e/trainer.py's.
Exits early if its standard input closes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from itertools import count

import wsbridge
from timing import summary, timed_steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(1)), daemon=True).start()

    with wsbridge.Hub(games=args.games, port=0) as hub:
        print(f"PORT {hub.port}", flush=True)
        env = wsbridge.RemoteVectorEnv(hub, connect_timeout=60, progress=False)
        env.reset(seed=0)
        actions = [env.action_space.sample() for _ in range(64)]
        steps = count()
        samples, elapsed = timed_steps(lambda: env.step(actions[next(steps) % 64]), args.warmup, args.seconds)
        env.close()
    print(json.dumps(summary("package", args.games, env.num_envs, samples, elapsed)), flush=True)


if __name__ == "__main__":
    main()
