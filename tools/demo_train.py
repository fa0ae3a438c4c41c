"""`make demo`: a real training run over one port.

Starts a wsbridge ``Hub``, launches N cartpole game processes (examples/game, C, speaking the
protocol through libwsbridge) on ``/env/0`` ... ``/env/N-1``, and trains a linear policy on all
their carts at once with the cross-entropy method (numpy only). Prints episodes, mean return per
generation, env steps/s and the step round-trip percentiles, and saves a learning curve.

    python tools/demo_train.py --game build/game/cartpole [--game 'mono build/csharp/demo/Cartpole.exe']
                               [--games 8] [--agents 2] [--seconds 60] [--plot build/demo/learning_curve.png]

With several ``--game`` commands (a C and a C# cartpole, say), the slots take them in turn, so
the games of every implementation train side by side on the same port.

Exits with status 1 if the mean return did not rise.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import wsbridge


class CrossEntropy:
    """The cross-entropy method over linear policies.

    Each generation draws ``population`` candidates from a diagonal Gaussian, evaluates each on
    one episode, and refits the Gaussian to the best ``elite`` fraction, plus extra noise that
    decays over generations (Szita and Lőrincz, 2006) so the search does not collapse early.
    """

    def __init__(self, dim: int, *, population: int = 32, elite: float = 0.25, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.mean, self.std = np.zeros(dim), np.ones(dim)
        self.population, self.elite = population, max(2, int(population * elite))
        self.queue = list(self.rng.normal(self.mean, self.std, (population, dim)))
        self.results: list[tuple[np.ndarray, float]] = []
        self.generation = 0

    def ask(self) -> np.ndarray | None:
        """The next candidate of this generation, or None when all are out being evaluated."""
        return self.queue.pop() if self.queue else None

    def tell(self, params: np.ndarray, episode_return: float) -> float | None:
        """Records a candidate's return; when that completes the generation, refits the
        Gaussian, starts the next generation and returns the finished one's mean return."""
        self.results.append((params, episode_return))
        if len(self.results) < self.population:
            return None
        returns = np.array([r for _, r in self.results])
        best = np.stack([self.results[i][0] for i in np.argsort(-returns)[: self.elite]])
        extra = max(0.5 / (1 + self.generation), 0.02)
        self.mean, self.std = best.mean(axis=0), best.std(axis=0) + extra
        self.results.clear()
        self.generation += 1
        self.queue = list(self.rng.normal(self.mean, self.std, (self.population, len(self.mean))))
        return float(returns.mean())


@dataclass
class History:
    #: (env steps so far, episode return, generation) per evaluated candidate.
    episodes: list[tuple[int, float, int]] = field(default_factory=list)
    #: (env steps so far, mean return of the generation's candidates) per generation.
    generations: list[tuple[int, float]] = field(default_factory=list)
    env_steps: int = 0
    seconds: float = 0.0


def act(params: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """A linear policy per sub-environment: push right when w·obs > 0."""
    return (np.einsum("ij,ij->i", obs, params) > 0).astype(np.int64)


def train(env: wsbridge.RemoteVectorEnv, *, seconds: float | None = None, generations: int | None = None,
          population: int = 32, seed: int = 0, progress: bool = True) -> History:
    """Runs the cross-entropy method until ``seconds`` have passed or ``generations`` are done.

    Every sub-environment evaluates one candidate per episode; when its episode ends it takes
    the next candidate (the vector env resets it on the next step). When a generation's last
    candidates are still running, free sub-environments play the current mean policy, whose
    episodes are not counted, so every generation is scored on exactly its own candidates.
    """
    if seconds is None and generations is None:
        raise ValueError("give seconds or generations")
    n = env.num_envs
    search = CrossEntropy(env.single_observation_space.shape[0], population=population, seed=seed)
    assigned: list[np.ndarray | None] = [search.ask() for _ in range(n)]  # None: playing the mean
    params = np.stack([search.mean if a is None else a for a in assigned])
    returns = np.zeros(n)
    history = History()
    obs, _ = env.reset(seed=seed)
    start = time.monotonic()
    bar = _progress(seconds, generations) if progress else None
    while True:
        obs, reward, terminated, truncated, _ = env.step(act(params, obs))
        history.env_steps += n
        returns += reward
        for i in np.flatnonzero(terminated | truncated):
            candidate = assigned[i]
            if candidate is not None:
                history.episodes.append((history.env_steps, float(returns[i]), search.generation))
                mean_return = search.tell(candidate, float(returns[i]))
                if mean_return is not None:
                    history.generations.append((history.env_steps, mean_return))
                    if bar is not None:
                        bar.set_postfix(generation=search.generation, episodes=len(history.episodes),
                                        mean_return=f"{mean_return:.1f}")
            assigned[i] = search.ask()
            params[i], returns[i] = search.mean if assigned[i] is None else assigned[i], 0.0
        elapsed = time.monotonic() - start
        if bar is not None:
            bar.update((min(int(elapsed), int(seconds)) if seconds is not None else search.generation) - bar.n)
        if (seconds is not None and elapsed >= seconds) or (generations is not None and search.generation >= generations):
            break
    if bar is not None:
        bar.close()
    history.seconds = time.monotonic() - start
    return history


def _progress(seconds: float | None, generations: int | None) -> Any:
    from tqdm import tqdm

    if seconds is not None:
        return tqdm(total=int(seconds), desc="training", bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} s{postfix}")
    return tqdm(total=generations, desc="training", unit="generation")


def plot(history: History, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    steps, rets, _ = zip(*history.episodes)
    ax.scatter(steps, rets, s=4, alpha=0.25, color="tab:blue", label="episode return")
    g_steps, g_means = zip(*history.generations)
    ax.plot(g_steps, g_means, color="tab:red", linewidth=2, marker="o", markersize=3,
            label="mean return per generation")
    ax.set_xlabel("environment steps (all carts)")
    ax.set_ylabel("episode return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", required=True, action="append",
                        help="a cartpole game command (repeat it: the slots take the commands in turn)")
    parser.add_argument("--games", type=int, default=8, help="game processes (default 8)")
    parser.add_argument("--agents", type=int, default=2, help="carts per game (default 2)")
    parser.add_argument("--seconds", type=float, default=60.0, help="training time (default 60)")
    parser.add_argument("--max-steps", type=int, default=500, help="episode time limit in steps (default 500)")
    parser.add_argument("--port", type=int, default=0, help="hub port (default: a free one)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", type=Path, default=Path("build/demo/learning_curve.png"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("websockets").setLevel(logging.WARNING)

    with wsbridge.Hub(games=args.games, port=args.port) as hub:
        print(f"demo: hub on {hub.url()}: {args.games} games x {args.agents} carts on "
              f"{hub.path_prefix}0 ... {hub.path_prefix}{args.games - 1}", flush=True)
        commands = [shlex.split(game) for game in args.game]
        for c, command in enumerate(commands):
            slots = [str(i) for i in range(c, args.games, len(commands))]
            print(f"demo: {' '.join(command)} on slots {', '.join(slots)}", flush=True)
        games = [subprocess.Popen([*commands[i % len(commands)], hub.url(), str(i), "--agents", str(args.agents),
                                   "--max-steps", str(args.max_steps), "--quiet"])
                 for i in range(args.games)]
        try:
            env = wsbridge.RemoteVectorEnv(hub, connect_timeout=30)
            history = train(env, seconds=args.seconds, seed=args.seed)
            round_trips = np.array(env.round_trips)
            env.close()
        finally:
            hub.close()  # closes every game with 1000: they exit
            for game in games:
                try:
                    game.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    game.kill()
                    game.wait()

    first, last = history.generations[0][1], history.generations[-1][1]
    p50, p99 = np.percentile(round_trips, [50, 99]) * 1e3
    print(f"demo: {len(history.episodes)} episodes, {len(history.generations)} generations, "
          f"{history.env_steps} env steps in {history.seconds:.1f} s")
    print(f"demo: mean return per generation: first {first:.1f} -> last {last:.1f} "
          f"(best {max(m for _, m in history.generations):.1f})")
    print(f"demo: {history.env_steps / history.seconds:,.0f} env steps/s "
          f"({env.num_envs} carts in {args.games} processes, one port)")
    print(f"demo: step round trip (all games in parallel): p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    title = f"cross-entropy method, {args.games} cartpole games x {args.agents} carts over one WebSocket port"
    plot(history, args.plot, title)
    print(f"demo: learning curve written to {args.plot}")
    if not last > first:
        print("demo: FAILED: the mean return did not rise", file=sys.stderr)
        return 1
    print("demo: done: the mean return rose")
    return 0


if __name__ == "__main__":
    sys.exit(main())
