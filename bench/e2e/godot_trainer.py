"""The peer row of workload 7: the trainer side of Godot RL Agents (``godot-rl`` from PyPI) stepping
G games of K agents with random actions, as its Stable-Baselines3 ``VecEnv`` does.

    python godot_trainer.py --games G --agents K --seconds T --game build/bench/godot_game.x86_64

Godot RL's trainer is ``godot_rl.core.godot_env.GodotEnv``: one plain TCP server socket per game,
on its own port (``port + i`` for game i), which launches the game binary itself
(``--port=P --env_seed=S``, here also ``--n_agents=K``) and speaks JSON messages with a 4-byte
length. Its Stable-Baselines3 wrapper (``StableBaselinesGodotEnv``, not imported here: it needs
torch) makes one ``GodotEnv(convert_action_space=True)`` per game and steps them by sending every
game its slice of the actions (``step_send``), then receiving every answer in turn
(``step_recv``), and stacking the per-agent observations, rewards and done flags into arrays;
this script does the same on the same public methods. The game is bench/e2e/godot_game.c.

Prints ``PORT <first port>`` once it starts, then one JSON line like bench/e2e/trainer.py's, with
the CPU seconds of this process (``trainer_cpu_seconds``) and of the games it launched and reaped
(``game_cpu_seconds``). GodotEnv's own prints go to stderr.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import random
import resource
import socket
import sys
import threading

import numpy as np
from godot_rl.core.godot_env import GodotEnv
from timing import summary, timed_steps


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive ports that are free now (GodotEnv takes fixed ports),
    below the kernel's ephemeral range (the games' own connections take ports from that range,
    and would collide with the listening ports GodotEnv binds one after another)."""
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    rng = random.Random(os.getpid())
    for _ in range(200):
        base = rng.randrange(10000, max(10001, low - count))
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise SystemExit(f"no {count} consecutive free ports found")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, required=True)
    parser.add_argument("--agents", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--game", required=True, help="the game binary (its name ends in .x86_64)")
    args = parser.parse_args()
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(1)), daemon=True).start()
    out = sys.stdout
    base = free_ports(args.games)
    print(f"PORT {base}", file=out, flush=True)
    with contextlib.redirect_stdout(sys.stderr):
        envs = [GodotEnv(env_path=args.game, port=base + i, seed=i, convert_action_space=True,
                         n_agents=args.agents) for i in range(args.games)]
        per_game = envs[0].num_envs
        num_envs = per_game * args.games
        space = envs[0].action_space
        batches = [np.stack([space.sample() for _ in range(num_envs)]).astype(np.int64) for _ in range(64)]
        for env in envs:
            env.reset()
        steps = [0]

        def step() -> None:
            actions = batches[steps[0] % 64]
            steps[0] += 1
            for i, env in enumerate(envs):
                env.step_send(actions[i * per_game:(i + 1) * per_game])
            obs, rewards, dones = [], [], []
            for env in envs:
                o, r, d, _, _ = env.step_recv()
                obs.extend(o)
                rewards.extend(r)
                dones.extend(d)
            batch = {k: np.array([o[k] for o in obs]) for k in obs[0]}
            _ = np.array(rewards, dtype=np.float32), np.array(dones)
            if batch["obs"].shape != (num_envs, 4):
                raise SystemExit(f"expected {num_envs} observations of 4, got {batch['obs'].shape}")

        samples, elapsed = timed_steps(step, args.warmup, args.seconds)
        trainer_cpu = resource.getrusage(resource.RUSAGE_SELF)
        # GodotEnv.close() waits a second after its "close" message: close the games together.
        with concurrent.futures.ThreadPoolExecutor(min(64, len(envs))) as pool:
            list(pool.map(lambda e: e.close(), envs))
        for env in envs:
            if env.proc is not None:
                env.proc.wait(60)
    games_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = summary("godot-rl", args.games, num_envs, samples, elapsed)
    result.update(agents=args.agents, trainer_cpu_seconds=trainer_cpu.ru_utime + trainer_cpu.ru_stime,
                  game_cpu_seconds=games_cpu.ru_utime + games_cpu.ru_stime)
    print(json.dumps(result), file=out, flush=True)


if __name__ == "__main__":
    main()
