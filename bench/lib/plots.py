"""The PNG plots: latency distribution per client, throughput per message size, scaling with
connections, and the end-to-end comparison."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .plan import CONNECTIONS, GAMES, SIZES  # noqa: E402
from .rows import RAW, WSBRIDGE  # noqa: E402
from .stats import Results  # noqa: E402
from .targets import size_name  # noqa: E402

STYLE = {"linewidth": 1.6}


def style(row: str) -> dict:
    if row == RAW:
        return {"color": "black", "linestyle": "--", **STYLE}
    if row in WSBRIDGE:
        return {"linewidth": 2.6}
    return dict(STYLE)


def latency(res: Results, rows: list[str], path: Path) -> None:
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    for ax, size in zip(axes.flat, SIZES):
        for row in rows:
            s = res.samples_us(row, f"rtt/{size}")
            if s:
                # At most ~2000 points per curve, denser in the tail.
                idx = sorted({min(len(s) - 1, int(len(s) * (1 - 0.5 ** (k / 100)))) for k in range(2000)})
                ax.plot([s[i] for i in idx], [(i + 1) / len(s) for i in idx], label=row, **style(row))
        ax.set_xscale("log")
        ax.set_title(f"round trip, {size_name(size)}")
        ax.set_xlabel("µs (log)")
        ax.set_ylabel("fraction of round trips ≤ x")
        ax.grid(True, which="both", alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle("Round-trip latency distribution per client (CDF; left is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def throughput(res: Results, rows: list[str], path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for ax, workload, title in ((axes[0], "upload", "game → server (client sends)"),
                                (axes[1], "download", "server → game (client receives)")):
        for row in rows:
            pts = [(s, (res.rate(row, f"{workload}/{s}") or {}).get("mb")) for s in SIZES]
            pts = [(s, v) for s, v in pts if v]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=row, **style(row))
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(list(SIZES), [size_name(s) for s in SIZES])
        ax.set_xlabel("message size")
        ax.set_ylabel("MB/s (log)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("One-way throughput per message size (higher is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def scaling(res: Results, rows: list[str], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 5))
    for row in rows:
        pts = [(n, (res.rate(row, f"conns/{n}") or {}).get("msgs")) for n in CONNECTIONS]
        pts = [(n, v) for n, v in pts if v]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=row, **style(row))
    ax.set_xscale("log")
    ax.set_xticks(list(CONNECTIONS), [str(n) for n in CONNECTIONS])
    ax.set_xlabel("concurrent connections in one process")
    ax.set_ylabel("aggregate 64 B messages/s")
    ax.set_title("Scaling with connections (lockstep rounds; higher is better)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def end_to_end(res: Results, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 5))
    width = 0.27
    for i, (transport, label, color) in enumerate((("ws", "WebSocket: websockets trainer + wsbridge games", "tab:blue"),
                                                    ("tcp", "raw TCP trainer + raw TCP games", "gray"),
                                                    ("package", "trainer package: RemoteVectorEnv + cartpole games",
                                                     "tab:orange"))):
        vals = [(res.e2e_summary(transport, g) or {}).get("steps_s", 0) for g in GAMES]
        ax.bar([j + (i - 1) * width for j in range(len(GAMES))], vals, width, label=label, color=color)
    ax.set_xticks(range(len(GAMES)), [f"{g} game{'s' if g > 1 else ''}" for g in GAMES])
    ax.set_ylabel("env steps/s")
    ax.set_title("End to end: Python trainer stepping G games in lockstep (higher is better)")
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(res: Results, rows: list[str], out: Path) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    made = {
        "latency.png": lambda p: latency(res, rows, p),
        "throughput.png": lambda p: throughput(res, rows, p),
        "scaling.png": lambda p: scaling(res, rows, p),
        "end_to_end.png": lambda p: end_to_end(res, p),
    }
    for name, draw in made.items():
        draw(out / name)
    return list(made)
