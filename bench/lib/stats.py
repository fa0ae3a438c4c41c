"""Summaries of the raw results: percentiles over pooled samples, medians over repetitions."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return math.nan
    k = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[k]


class Results:
    """Everything one run measured: per row and cell, one result dict per repetition."""

    def __init__(self) -> None:
        self.cells: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        self.idle: dict[str, dict] = {}
        self.e2e: dict[tuple[str, int], list[dict]] = defaultdict(list)
        #: Workload 7: (transport, games, agents per game) -> one result per repetition.
        self.trainer: dict[tuple[str, int, int], list[dict]] = defaultdict(list)

    def add(self, row: str, key: str, result: dict) -> None:
        self.cells[row][key].append(result)

    def ok(self, row: str, key: str) -> list[dict]:
        return [r for r in self.cells.get(row, {}).get(key, []) if "error" not in r]

    def errors(self) -> list[tuple[str, str, str]]:
        out = [(row, key, r["error"]) for row, by in self.cells.items() for key, rs in by.items() for r in rs if "error" in r]
        out += [(row, "idle", r["error"]) for row, r in self.idle.items() if "error" in r]
        out += [(f"e2e {t}", f"{g} games", r["error"]) for (t, g), rs in self.e2e.items() for r in rs if "error" in r]
        out += [(f"trainer {t}", f"{g} games x {k} agents", r["error"]) for (t, g, k), rs in self.trainer.items()
                for r in rs if "error" in r]
        return out

    # ---- per workload ------------------------------------------------------------------------

    def samples_us(self, row: str, key: str) -> list[float]:
        return sorted(s / 1e3 for r in self.ok(row, key) for s in r["samples_ns"])

    def latency(self, row: str, key: str) -> dict | None:
        s = self.samples_us(row, key)
        if not s:
            return None
        reps = [percentile(sorted(x / 1e3 for x in r["samples_ns"]), 0.5) for r in self.ok(row, key) if r["samples_ns"]]
        return {"p50": percentile(s, 0.5), "p99": percentile(s, 0.99), "n": len(s), "rep_p50": reps}

    def cpu_per_op(self, row: str, key: str) -> float | None:
        """CPU µs of the whole client process per round trip (median of the repetitions), for
        the rows that report it (the C harness: `cpu_seconds`)."""
        per = [r["cpu_seconds"] * 1e6 / n for r in self.ok(row, key) if "cpu_seconds" in r
               for n in [len(r.get("samples_ns", ())) or r.get("messages", 0)] if n]
        return statistics.median(per) if per else None

    def cpu_share(self, row: str, key: str) -> dict | None:
        """The `wait` workload: CPU the client burns per second of waiting (as % of one core)
        and per round trip, medians and least of the repetitions."""
        rs = [r for r in self.ok(row, key) if r.get("seconds", 0) > 0 and r.get("messages", 0) > 0]
        if not rs:
            return None
        share = [100 * r["cpu_seconds"] / r["seconds"] for r in rs]
        # "least": the least disturbed repetition. Another process on the machine only ever adds
        # CPU to a run (cache misses, migrations, a hypervisor's steal), never takes it away, and
        # on a 2-core VM a few seconds of a wait vary by +30 % from that alone, so the least of
        # the repetitions is the figure that compares code with code (the spin's own cost).
        return {"percent": statistics.median(share), "least_percent": min(share), "rep_percent": share,
                "us_per_rtt": statistics.median(r["cpu_seconds"] * 1e6 / r["messages"] for r in rs),
                "least_us_per_rtt": min(r["cpu_seconds"] * 1e6 / r["messages"] for r in rs),
                "rtt_us": statistics.median(r["seconds"] * 1e6 / r["messages"] for r in rs)}

    def rate(self, row: str, key: str) -> dict | None:
        rs = [r for r in self.ok(row, key) if r.get("seconds", 0) > 0 and r.get("messages", 0) > 0]
        if not rs:
            return None
        mb = [r["bytes"] / r["seconds"] / 1e6 for r in rs] if "bytes" in rs[0] else []
        msgs = [r["messages"] / r["seconds"] for r in rs]
        out = {"msgs": statistics.median(msgs), "rep_msgs": msgs, "retries": sum(r.get("retries", 0) for r in rs)}
        if mb:
            out["mb"] = statistics.median(mb)
            out["rep_mb"] = mb
        if "threads" in rs[0]:
            out["threads"] = max(r["threads"] for r in rs)
            out["connect_s"] = statistics.median(r["connect_seconds"] for r in rs)
        return out

    def memory(self, row: str) -> dict | None:
        r = self.idle.get(row)
        if not r or "error" in r:
            return None
        n = r["connections"]
        return {
            "connections": n,
            "threads_before": r["threads_before"],
            "threads_after": r["threads_after"],
            "kib_per_conn": (r["rss_kb_after"] - r["rss_kb_before"]) / n,
            "fds_per_conn": (r["fds_after"] - r["fds_before"]) / n if "fds_after" in r else None,
        }

    def e2e_summary(self, transport: str, games: int) -> dict | None:
        return self._steps(self.e2e.get((transport, games), []))

    def trainer_summary(self, transport: str, games: int, agents: int) -> dict | None:
        """Workload 7: env steps/s (an agent's step), medians of the repetitions."""
        return self._steps(self.trainer.get((transport, games, agents), []))

    @staticmethod
    def _steps(results: list[dict]) -> dict | None:
        rs = [r for r in results if "error" not in r]
        if not rs:
            return None
        med = lambda k: statistics.median(r[k] for r in rs)  # noqa: E731
        return {
            "steps_s": med("env_steps_per_s"),
            "rep_steps_s": [r["env_steps_per_s"] for r in rs],
            "p50": med("step_p50_us"),
            "p99": med("step_p99_us"),
            "game_cpu": med("game_cpu_us_per_step"),
            "rep_game_cpu": [r["game_cpu_us_per_step"] for r in rs],
            # The least disturbed repetition (see `cpu_share`): what compares code with code.
            "least_game_cpu": min(r["game_cpu_us_per_step"] for r in rs),
            "trainer_cpu": med("trainer_cpu_us_per_step"),
        }
