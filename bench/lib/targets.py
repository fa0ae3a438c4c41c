"""The issue's targets, each evaluated as a measured ratio. A target that cannot be evaluated
(a row missing or failed) says so; none is ever assumed met."""

from __future__ import annotations

from dataclasses import dataclass

from .e2e import GODOT, PACKAGE, TRAINER_AGENTS, TRAINER_GAMES
from .plan import CONNECTIONS, DELAYS_US, GAMES, SIZES
from .rows import PEERS, RAW, RAW_SPIN, WSB_C, WSB_C_OFF, WSB_CS
from .stats import Results

KIB_PER_IDLE_CONN = 64


@dataclass
class Target:
    text: str
    measured: str
    met: bool | None  # None: could not be measured


def size_name(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB" if n >= 1024 else f"{n} B"


def ratio_target(text: str, num: float | None, den: float | None, limit: float, higher_is_better: bool,
                 what: str) -> Target:
    if num is None or den is None or den == 0:
        return Target(text, "not measured (a row failed or did not run)", None)
    r = num / den
    met = r >= limit if higher_is_better else r <= limit
    return Target(text, f"{r:.2f}× ({what.format(num=num, den=den)})", met)


def evaluate(res: Results, rows_run: list[str]) -> list[Target]:
    t: list[Target] = []
    lat = lambda row, s: (res.latency(row, f"rtt/{s}") or {}).get("p50")  # noqa: E731
    mb = lambda row, w, s: (res.rate(row, f"{w}/{s}") or {}).get("mb")  # noqa: E731

    for size, limit in ((64, 1.2), (1 << 20, 1.1)):
        t.append(ratio_target(
            f"wsbridge C ABI round trip p50 at {size_name(size)} ≤ {limit}× raw TCP",
            lat(WSB_C, size), lat(RAW, size), limit, False, "{num:.1f} µs vs {den:.1f} µs"))
    # Issue 19: the spin before a wait sleeps.
    for size in (64, 1024):
        t.append(ratio_target(
            f"wsbridge C ABI round trip p50 at {size_name(size)} ≤ 1.3× the spinning raw TCP row",
            lat(WSB_C, size), lat(RAW_SPIN, size), 1.3, False, "{num:.1f} µs vs {den:.1f} µs"))
        t.append(ratio_target(
            f"wsbridge C ABI round trip p50 at {size_name(size)} below the blocking raw TCP row",
            lat(WSB_C, size), lat(RAW, size), 0.999, False, "{num:.1f} µs vs {den:.1f} µs"))
    for d in DELAYS_US:
        on, off = res.cpu_share(WSB_C, f"wait/{d}"), res.cpu_share(WSB_C_OFF, f"wait/{d}")
        t.append(ratio_target(
            f"a game waiting {d // 1000} ms for each answer: CPU per second with the spin on ≤ 1.02× spin off",
            on and on["least_percent"], off and off["least_percent"], 1.02, False,
            "{num:.3f} % vs {den:.3f} % of a core, least of the repetitions"))
    for w, label in (("upload", "game → server"), ("download", "server → game")):
        t.append(ratio_target(
            f"1 MiB one-way throughput ({label}) ≥ 0.8× raw TCP",
            mb(WSB_C, w, 1 << 20), mb(RAW, w, 1 << 20), 0.8, True, "{num:.0f} vs {den:.0f} MB/s"))

    for wsb in (WSB_C, WSB_CS):
        if wsb not in rows_run:
            t.append(Target(f"{wsb} faster than every peer client", "row not run", None))
            continue
        for size in SIZES:
            peers = [(p, lat(p, size)) for p in PEERS if lat(p, size)]
            if peers and lat(wsb, size):
                best, v = min(peers, key=lambda x: x[1])
                t.append(ratio_target(
                    f"{wsb} round trip p50 at {size_name(size)} below every peer (best: {best})",
                    lat(wsb, size), v, 0.999, False, "{num:.1f} µs vs {den:.1f} µs"))
            for w in ("upload", "download"):
                peers = [(p, mb(p, w, size)) for p in PEERS if mb(p, w, size)]
                if peers and mb(wsb, w, size):
                    best, v = max(peers, key=lambda x: x[1])
                    t.append(ratio_target(
                        f"{wsb} {w} throughput at {size_name(size)} above every peer (best: {best})",
                        mb(wsb, w, size), v, 1.001, True, "{num:.1f} vs {den:.1f} MB/s"))

    mem = res.memory(WSB_C)
    n = max(CONNECTIONS)
    if mem:
        extra = mem["threads_after"] - mem["threads_before"]
        few = (res.rate(WSB_C, "conns/1") or {}).get("threads")
        many = (res.rate(WSB_C, f"conns/{n}") or {}).get("threads")
        t.append(Target(
            f"{n} concurrent connections in one process with a bounded number of threads",
            f"{mem['threads_after']} threads with {n} connections open ({extra:+d} for wsbridge); "
            f"{few} threads at 1 connection, {many} at {n}",
            many is not None and few is not None and many == few))
        t.append(Target(
            f"≤ {KIB_PER_IDLE_CONN} KiB of memory per idle connection",
            f"{mem['kib_per_conn']:.1f} KiB (process RSS growth over {n} connections / {n})",
            mem["kib_per_conn"] <= KIB_PER_IDLE_CONN))
    else:
        t.append(Target(f"{n} idle connections: threads and memory", "not measured", None))

    for transport, what in (("ws", "WebSocket (same trainer, wsbridge games)"),
                            ("package", "the trainer package (RemoteVectorEnv)")):
        for g in GAMES:
            ws, tcp = res.e2e_summary(transport, g), res.e2e_summary("tcp", g)
            t.append(ratio_target(
                f"end to end, {g} game{'s' if g > 1 else ''}: {what} env steps/s ≥ 0.9× the raw TCP trainer",
                ws and ws["steps_s"], tcp and tcp["steps_s"], 0.9, True, "{num:.0f} vs {den:.0f} steps/s"))
    for g in GAMES:
        on, off = res.e2e_summary("ws", g), res.e2e_summary("ws-spin-off", g)
        t.append(ratio_target(
            f"end to end, {g} game{'s' if g > 1 else ''}: env steps/s with the spin on ≥ 0.97× spin off (no slower, "
            "within the run's noise)",
            on and on["steps_s"], off and off["steps_s"], 0.97, True, "{num:.0f} vs {den:.0f} steps/s"))
        t.append(ratio_target(
            f"end to end, {g} game{'s' if g > 1 else ''}: games' CPU per step with the spin on ≤ 1.03× spin off",
            on and on["least_game_cpu"], off and off["least_game_cpu"], 1.03, False,
            "{num:.1f} vs {den:.1f} µs, least of the repetitions"))
    # Workload 7 (issue 16, "a hub that is never the bottleneck").
    for g in TRAINER_GAMES:
        for k in TRAINER_AGENTS:
            if not any((tr, g, k) in res.trainer for tr in (PACKAGE, "tcp", GODOT)):
                continue
            pkg = res.trainer_summary(PACKAGE, g, k)
            tcp, godot = res.trainer_summary("tcp", g, k), res.trainer_summary(GODOT, g, k)
            where = f"trainer, {g} game{'s' if g > 1 else ''} x {k} agent{'s' if k > 1 else ''}"
            t.append(ratio_target(f"{where}: the trainer package (RemoteVectorEnv) env steps/s ≥ 1.0× the raw TCP "
                                  "asyncio trainer", pkg and pkg["steps_s"], tcp and tcp["steps_s"], 1.0, True,
                                  "{num:.0f} vs {den:.0f} steps/s"))
            t.append(ratio_target(f"{where}: the trainer package env steps/s ≥ 2× Godot RL Agents' trainer "
                                  "(GodotEnv)",
                                  pkg and pkg["steps_s"], godot and godot["steps_s"], 2.0, True,
                                  "{num:.0f} vs {den:.0f} steps/s"))
    return t
