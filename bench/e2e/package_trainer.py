"""The end-to-end workload through the trainer package (bindings/python, issue 6): a
``wsbridge.Hub`` on one port, ``wsbridge.RemoteVectorEnv`` over G cartpole games (examples/game,
C through wsbridge), stepped with random actions.

    python package_trainer.py --games G [--agents K] --seconds T

Prints ``PORT <n>`` once listening (the caller then starts the games with
``cartpole ws://127.0.0.1:<n> <i> --quiet [--agents K]``), then one JSON line like
bench/e2e/trainer.py's.
Exits early if its standard input closes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path

import wsbridge
from timing import summary, timed_steps


@contextlib.contextmanager
def profiled(hub: wsbridge.Hub, out: Path) -> Iterator[None]:
    """pyinstrument on this thread and on the hub's event loop thread (a profiler samples the
    thread that starts it)."""
    from pyinstrument import Profiler

    loop = hub._loop
    assert loop is not None
    training, network = Profiler(interval=0.0002), Profiler(interval=0.0002, async_mode="disabled")
    asyncio.run_coroutine_threadsafe(_call(network.start), loop).result()
    training.start()
    try:
        yield
    finally:
        training.stop()
        asyncio.run_coroutine_threadsafe(_call(network.stop), loop).result()
        out.mkdir(parents=True, exist_ok=True)
        every = bool(os.environ.get("PROFILE_ALL"))  # library frames too
        (out / "training.txt").write_text(training.output_text(unicode=True, show_all=every))
        (out / "hub.txt").write_text(network.output_text(unicode=True, show_all=every))


async def _call(fn: Callable[[], object]) -> None:
    fn()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--agents", type=int, default=1, help="agents per game (the games are started with it)")
    parser.add_argument("--profile", type=Path, help="write pyinstrument profiles of the timed steps here: the "
                        "training thread (training.txt) and the hub's event loop thread (hub.txt)")
    args = parser.parse_args()
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(1)), daemon=True).start()

    with wsbridge.Hub(games=args.games, port=0) as hub:
        print(f"PORT {hub.port}", flush=True)
        env = wsbridge.RemoteVectorEnv(hub, connect_timeout=60, progress=False)
        env.reset(seed=0)
        actions = [env.action_space.sample() for _ in range(64)]
        steps = count()
        step = lambda: env.step(actions[next(steps) % 64])  # noqa: E731
        if args.profile:
            for _ in range(args.warmup):
                step()
            with profiled(hub, args.profile):
                samples, elapsed = timed_steps(step, 0, args.seconds)
        else:
            samples, elapsed = timed_steps(step, args.warmup, args.seconds)
        env.close()
    result = summary("package", args.games, env.num_envs, samples, elapsed)
    if env.num_envs != args.games * args.agents:
        raise SystemExit(f"expected {args.games} x {args.agents} agents, the games declared {env.num_envs}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
