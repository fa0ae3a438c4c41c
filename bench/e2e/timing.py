"""The timed part of both end-to-end trainers: warm up, step until the time is up, summarize."""

from __future__ import annotations

import time
from collections.abc import Callable


def timed_steps(step: Callable[[], object], warmup: int, seconds: float) -> tuple[list[int], float]:
    """Calls `step` `warmup` times, then until `seconds` have passed. The duration of each timed
    call in ns (sorted) and the elapsed seconds."""
    for _ in range(warmup):
        step()
    samples = []
    start = time.perf_counter_ns()
    deadline = start + int(seconds * 1e9)
    now = start
    while now < deadline:
        t0 = time.perf_counter_ns()
        step()
        now = time.perf_counter_ns()
        samples.append(now - t0)
    samples.sort()
    return samples, (now - start) / 1e9


def summary(transport: str, games: int, envs: int, samples: list[int], elapsed: float) -> dict:
    """The JSON line a trainer prints (bench/lib/e2e.py reads it)."""
    pct = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))] / 1e3  # noqa: E731
    return {
        "transport": transport,
        "games": games,
        "envs": envs,
        "steps": len(samples),
        "seconds": elapsed,
        "env_steps_per_s": envs * len(samples) / elapsed,
        "step_p50_us": pct(0.5),
        "step_p99_us": pct(0.99),
    }
