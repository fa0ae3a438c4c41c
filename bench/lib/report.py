"""bench/results.md (and bench/results.json): every row, every workload, every target."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .e2e import GODOT, PACKAGE, TRAINER_AGENTS, TRAINER_GAMES
from .plan import CONNECTIONS, DELAYS_US, GAMES, SIZES
from .rows import C_HARNESS, RAW, RAW_SPIN, SPIN_US
from .stats import Results
from .targets import Target, size_name


def us(v: float | None) -> str:
    if v is None or math.isnan(v):
        return "–"
    return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.1f} µs"


def num(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "–"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M"
    if v >= 1e4:
        return f"{v / 1e3:.0f} k"
    return f"{v:,.{digits}f}"


def ratio(v: float | None, base: float | None) -> str:
    return f"{v / base:.2f}×" if v and base else "–"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out + [""]


def size_table(run_rows: list[str], cell) -> list[str]:
    """One line per row, one column per message size; `cell(row, size)` is a cell's text."""
    return table(["row"] + [size_name(s) for s in SIZES], [[row] + [cell(row, s) for s in SIZES] for row in run_rows])


def write(res: Results, targets: list[Target], meta: dict, run_rows: list[str], skipped: dict[str, str],
          out: Path, plots: list[str]) -> None:
    L: list[str] = ["# wsbridge benchmark results", ""]
    L += [f"Written by `{meta['command']}` on {meta['date']} ({meta['plan']}, {meta['reps']} repetition(s), "
          f"{meta['duration_s'] / 60:.1f} min). Machine: {meta['machine']}. "
          f"Load average before/after: {meta['load_before']} / {meta['load_after']}. "
          f"wsbridge {meta['commit']}.", ""]
    L += ["Rows run side by side in one process tree; in every repetition each workload cell runs every row, in an order "
          "that rotates from cell to cell. Latencies are pooled over the repetitions; rates are the median of the "
          "repetitions (their range in the JSON). Ratios are against raw TCP unless stated.", ""]
    L += [f"Versions: {meta['versions']}.", ""]

    L += ["## Targets", ""]
    met = sum(1 for t in targets if t.met)
    L += [f"{met} of {len(targets)} met.", ""]
    L += table(["target", "measured", "result"],
               [[t.text, t.measured, "met" if t.met else "not measured" if t.met is None else "**MISSED**"] for t in targets])

    if meta.get("measured_once"):
        L += ["Measured in the first repetition only (slower than the time bound of a cell): "
              + "; ".join(meta["measured_once"]) + ".", ""]
    if skipped:
        L += ["## Rows not run", ""]
        L += [f"- {name}: {why}" for name, why in skipped.items()] + [""]

    L += ["## 1. Round trip (send, wait for the echo)", "",
          "p50 / p99 per size; in brackets the p50 as a multiple of raw TCP's.", ""]
    base = {s: (res.latency(RAW, f"rtt/{s}") or {}).get("p50") for s in SIZES}

    def rtt_cell(row: str, s: int) -> str:
        lat = res.latency(row, f"rtt/{s}")
        return f"{us(lat['p50'])} / {us(lat['p99'])} ({ratio(lat['p50'], base[s])})" if lat else "–"

    L += size_table(run_rows, rtt_cell)
    spin_base = {s: (res.latency(RAW_SPIN, f"rtt/{s}") or {}).get("p50") for s in SIZES}
    L += [f"The same p50, as a multiple of the spinning raw TCP row's (non-blocking reads for up to {SPIN_US} µs "
          "before a blocking one: the limit of a client that spins, as wsbridge's waits do by default):", ""]
    L += size_table(run_rows, lambda row, s: ratio((res.latency(row, f"rtt/{s}") or {}).get("p50"), spin_base[s]))
    L += ["CPU per round trip, µs (user + system time of the whole client process over the timed round trips, "
          "all its threads, / round trips; median of the repetitions; C rows only, bench/profile.py has all "
          "rows under perf):", ""]
    cpu_rows = [r for r in run_rows if any(res.cpu_per_op(r, f"rtt/{s}") for s in SIZES)]
    L += size_table(cpu_rows, lambda row, s: us(res.cpu_per_op(row, f"rtt/{s}")))

    for workload, title in (("upload", "2a. One-way throughput, game → server (client sends)"),
                            ("download", "2b. One-way throughput, server → game (client receives)")):
        L += [f"## {title}", "", "MB/s and messages/s per size (median of the repetitions).", ""]
        mb = {s: (res.rate(RAW, f"{workload}/{s}") or {}).get("mb") for s in SIZES}

        def rate_cell(row: str, s: int, workload: str = workload, mb: dict = mb) -> str:
            r = res.rate(row, f"{workload}/{s}")
            return f"{r['mb']:.1f} MB/s, {num(r['msgs'])} msg/s ({ratio(r['mb'], mb[s])})" if r else "–"

        L += size_table(run_rows, rate_cell)
        retried = [f"{row}: {res.rate(row, f'{workload}/{s}')['retries']} at {size_name(s)}" for row in run_rows
                   for s in SIZES if (res.rate(row, f"{workload}/{s}") or {}).get("retries")]
        if retried:
            L += ["Sends that met a full send queue (WSB_WOULD_BLOCK / TrySend false) and waited with "
                  "wsb_flush / Flush before sending again, summed over the repetitions: " + "; ".join(retried) + ".", ""]

    L += ["## 3. Many connections from one process", "",
          "Lockstep rounds of 64 B messages: one message on every connection, then every echo. Aggregate "
          "messages/s; threads in the process while the connections are open.", ""]
    rows = []
    for row in run_rows:
        cells = [row]
        for n in CONNECTIONS:
            r = res.rate(row, f"conns/{n}")
            cells.append(f"{num(r['msgs'])} msg/s, {r['threads']} threads" if r else "–")
        mem = res.memory(row)
        fds = f", {mem['fds_per_conn']:.2f} fds" if mem and mem["fds_per_conn"] is not None else ""
        cells.append(f"{mem['kib_per_conn']:.1f} KiB{fds}, threads {mem['threads_before']} → {mem['threads_after']}"
                     if mem else "–")
        rows.append(cells)
    n_idle = next((res.memory(r)["connections"] for r in run_rows if res.memory(r)), 1000)
    L += table(["row"] + [f"{n} conn." for n in CONNECTIONS] + [f"memory per idle connection ({n_idle})"], rows)
    L += ["Memory per idle connection: growth of the process's resident memory (and of its open file descriptors) "
          f"from before the first connection to {n_idle} open connections that have each done one round trip, divided "
          f"by {n_idle} (a fresh process per row).", ""]

    L += ["## 4. Connect time (TCP + upgrade)", "", "Blocking connect until open; raw TCP is `connect()` alone.", ""]
    base = (res.latency(RAW, "connect/0") or {}).get("p50")
    rows = []
    for row in run_rows:
        lat = res.latency(row, "connect/0")
        rows.append([row, us(lat["p50"]) if lat else "–", us(lat["p99"]) if lat else "–",
                     ratio(lat["p50"], base) if lat else "–"])
    L += table(["row", "p50", "p99", "p50 vs raw TCP"], rows)

    L += ["## 5. A game waiting on a slow trainer", "",
          "64 B round trips to `/delay/US`: the echo server sends each echo US µs after the message came in. "
          "CPU the client process burns per second of waiting (% of one core), its CPU per round trip, and the "
          "round trip time: the least of the repetitions, then their median. Other work on the machine only ever "
          "adds CPU to a run (by up to a third here), so the least disturbed repetition is the one that compares "
          "the code, and the target uses it. Spinning costs CPU only where answers come fast; here "
          "they never do, so the adaptive spin must cost (almost) nothing next to the spin-off row.", ""]
    rows = []
    for row in [r for r in run_rows if r in C_HARNESS]:
        cells = [row]
        for d in DELAYS_US:
            w = res.cpu_share(row, f"wait/{d}")
            cells.append(f"{w['least_percent']:.3f} % (median {w['percent']:.3f} %), "
                         f"{w['least_us_per_rtt']:.1f} µs / round trip ({us(w['rtt_us'])})" if w else "–")
        rows.append(cells)
    L += table(["row"] + [f"echo after {us(d)}" for d in DELAYS_US], rows)

    L += ["## 6. End to end: a Python trainer stepping G games", "",
          f"Lockstep vector env: every step sends an action ({meta['e2e_action']} B) to every game and waits for every "
          f"observation ({meta['e2e_obs']} B). WebSocket: `websockets` server + wsbridge games (C ABI); raw TCP: asyncio "
          "streams with a 4-byte length + raw TCP games (the Godot RL style); the same trainer code "
          "(bench/e2e/trainer.py, event loop on its own thread), the same game code (bench/e2e/game.c, one thread per "
          "game). Trainer package: `wsbridge.Hub` + `wsbridge.RemoteVectorEnv` with one cartpole process per game "
          "(its own protocol and messages, random actions). CPU per env step: user + system time of each side over "
          "the whole run / env steps, median of the repetitions (the spin's target compares the least of them, as "
          "in section 5: other work only adds CPU).", ""]
    rows = []
    for g in GAMES:
        tcp = res.e2e_summary("tcp", g)
        for transport, label in (("ws", "WebSocket (wsbridge)"), ("ws-spin-off", "WebSocket (wsbridge, spin off)"),
                                 ("tcp", "raw TCP"),
                                 ("package", "trainer package (RemoteVectorEnv)")):
            r = res.e2e_summary(transport, g)
            if not r:
                if transport != "package" or (transport, g) in res.e2e:
                    rows.append([str(g), label, "–", "–", "–", "–", "–"])
                continue
            rows.append([str(g), label, f"{r['steps_s']:,.0f} ({ratio(r['steps_s'], tcp and tcp['steps_s'])})",
                         us(r["p50"]), us(r["p99"]), f"{r['trainer_cpu']:.1f} µs", f"{r['game_cpu']:.1f} µs"])
    L += table(["games", "transport", "env steps/s (vs raw TCP)", "step p50", "step p99",
                "trainer CPU / step", "games' CPU / step"], rows)

    if res.trainer:
        L += ["## 7. The trainer package against its baseline and its peer: G games of K agents", "",
              "Env steps/s (an agent's step) with random actions; medians of the repetitions. Trainer package: "
              "`wsbridge.Hub` + `RemoteVectorEnv` (bench/e2e/package_trainer.py) over one cartpole process per game "
              "(examples/game, `--agents K`). Raw TCP: the asyncio-streams trainer of section 6 "
              "(bench/e2e/trainer.py) with K x 8 B actions and K x 32 B observations per game (bench/e2e/game.c, "
              "one process per game as in the other rows: no protocol, no simulation: the transport's floor). "
              "Godot RL Agents: the trainer side of `godot-rl` "
              "(PyPI; `GodotEnv`, one TCP port and JSON message per game, stepped as its Stable-Baselines3 VecEnv "
              "does; bench/e2e/godot_trainer.py) over a cartpole speaking its protocol (bench/e2e/godot_game.c), "
              "launched by GodotEnv itself. CPU per env step: user + system time of each side / env steps.", ""]
        rows = []
        for g in TRAINER_GAMES:
            for k in TRAINER_AGENTS:
                tcp, godot = res.trainer_summary("tcp", g, k), res.trainer_summary(GODOT, g, k)
                versions = sorted({t for t, _, _ in res.trainer if t.startswith(PACKAGE + "@")})
                for transport, label in ((PACKAGE, "trainer package"),
                                         *((v, f"trainer package, {v.partition('@')[2]}") for v in versions),
                                         ("tcp", "raw TCP (asyncio)"), (GODOT, "Godot RL Agents (godot-rl)")):
                    if (transport, g, k) not in res.trainer:
                        continue
                    r = res.trainer_summary(transport, g, k)
                    if not r:
                        rows.append([str(g), str(k), label, "–", "–", "–", "–", "–", "–"])
                        continue
                    vs = (f"{ratio(r['steps_s'], tcp and tcp['steps_s'])} / "
                          f"{ratio(r['steps_s'], godot and godot['steps_s'])}") if transport.startswith(PACKAGE) else ""
                    rows.append([str(g), str(k), label, f"{r['steps_s']:,.0f}", vs, us(r["p50"]), us(r["p99"]),
                                 f"{r['trainer_cpu']:.1f} µs", f"{r['game_cpu']:.1f} µs"])
        L += table(["games", "agents", "row", "env steps/s", "package vs raw TCP / vs godot-rl", "step p50",
                    "step p99", "trainer CPU / env step", "games' CPU / env step"], rows)

    errors = res.errors()
    if errors:
        L += ["## Errors", ""] + [f"- {row}, {key}: {msg}" for row, key, msg in errors] + [""]

    if plots:
        L += ["## Plots", ""] + [f"![{p}](plots/{p})" for p in plots] + [""]

    out.joinpath("results.md").write_text("\n".join(L))
    out.joinpath("results.json").write_text(json.dumps(summary(res, targets, meta, run_rows), indent=1) + "\n")


def summary(res: Results, targets: list[Target], meta: dict, run_rows: list[str]) -> dict:
    """The numbers behind results.md, without the raw samples."""
    return {
        "meta": meta,
        "targets": [t.__dict__ for t in targets],
        "rows": {
            row: {
                "rtt": {s: res.latency(row, f"rtt/{s}") for s in SIZES},
                "upload": {s: res.rate(row, f"upload/{s}") for s in SIZES},
                "download": {s: res.rate(row, f"download/{s}") for s in SIZES},
                "conns": {n: res.rate(row, f"conns/{n}") for n in CONNECTIONS},
                "connect": res.latency(row, "connect/0"),
                "rtt_cpu_us": {s: res.cpu_per_op(row, f"rtt/{s}") for s in SIZES},
                "wait": {d: res.cpu_share(row, f"wait/{d}") for d in DELAYS_US},
                "idle": res.memory(row),
            }
            for row in run_rows
        },
        "e2e": {f"{t}/{g}": res.e2e_summary(t, g) for t in ("ws", "ws-spin-off", "tcp", "package") for g in GAMES},
        "trainer": {f"{t}/{g}x{k}": res.trainer_summary(t, g, k) for t in sorted({t for t, _, _ in res.trainer})
                    for g in TRAINER_GAMES for k in TRAINER_AGENTS if (t, g, k) in res.trainer},
    }
