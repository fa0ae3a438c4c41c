"""`make bench-profile`: where the time of a wsbridge message goes, next to raw TCP and
libwebsockets: CPU time and context switches per operation (perf stat, software counters, so it
works on virtual machines without hardware counters), system calls per operation and thread
(perf trace), and the hottest functions of a 1 MiB round trip (perf record). Writes
bench/profile.md.

    python bench/profile.py --build build/bench
    python bench/profile.py --build build/bench --trainer 64x1 --trainer 256x16   (the trainer package)

With ``--trainer GxK`` it profiles the trainer package instead (workload 7 of `make bench`: G
cartpole games of K agents, random actions): pyinstrument on the training thread and on the hub's
event loop thread over the timed steps, written to bench/profile-trainer.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from lib.rows import LWS, RAW, RAW_SPIN, SPIN_OFF, SPIN_US, WSB_C, WSB_C_OFF
from lib.workers import start_echod

ROOT = Path(__file__).resolve().parents[1]

# Row: (program in the build directory, its environment).
ROWS = {RAW: ("raw_tcp", {}), RAW_SPIN: ("raw_tcp", {"RAW_SPIN_US": str(SPIN_US)}), WSB_C: ("wsb_c", {}),
        WSB_C_OFF: ("wsb_c", {"WSB_BENCH_OPTIONS": SPIN_OFF}), LWS: ("lws_c", {})}
CASES = [
    # (label, command, operations it makes when it does not report them, operations per "op")
    ("round trip, 64 B; op = one round trip", "rtt 64 20000 500 60", 20500, 1),
    ("round trip, 1 KiB; op = one round trip", "rtt 1024 20000 500 60", 20500, 1),
    ("round trip, 1 MiB; op = one round trip", "rtt 1048576 1000 10 60", 1010, 1),
    ("waiting 1 ms for each answer (a slow trainer); op = one round trip", "wait 64 1000 2", None, 1),
    ("waiting 100 ms for each answer; op = one round trip", "wait 64 100000 2", None, 1),
    ("download, 64 B messages; op = 1,000 messages received", "download 64 65536 1.0", None, 1000),
    ("upload, 1 MiB messages; op = one message sent", "upload 1048576 1000000000 1.0", None, 1),
]


#: The environment of each row's worker (see ROWS), by the worker's path.
ENV: dict[str, dict[str, str]] = {}


def run_worker(argv: list[str], command: str, ports: list[str]) -> dict:
    """Runs one command in a fresh worker under `argv` (a perf prefix); its JSON answer."""
    env = dict(os.environ, **ENV.get(argv[-1], {}))
    proc = subprocess.run([*argv, "--ws-port", ports[0], "--raw-port", ports[1]], input=f"{command}\nquit\n",
                          capture_output=True, text=True, timeout=600, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"profile: {' '.join(argv)} failed ({proc.returncode}): {proc.stderr[-800:]}")
    result = json.loads(lines[0])
    if "error" in result:
        raise SystemExit(f"profile: {command}: {result['error']}")
    return result


def ops_of(result: dict, default: int | None) -> int:
    return int(result["messages"]) if "messages" in result else int(default or 0)


def perf_stat(binary: Path, command: str, ports: list[str], default: int | None) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".csv") as f:
        result = run_worker(["perf", "stat", "-x,", "-o", f.name, "-e", "task-clock,context-switches", "--",
                             str(binary)], command, ports)
        values = {}
        for line in Path(f.name).read_text().splitlines():
            parts = line.split(",")
            if len(parts) > 3 and parts[0].replace(".", "").isdigit():
                values[parts[2]] = float(parts[0])
    ops = ops_of(result, default)
    return {"ops": ops, "cpu_us": values.get("task-clock", 0) * 1e3 / ops,
            "switches": values.get("context-switches", 0) / ops}


THREAD = re.compile(r"^ (\S.*) \((\d+)\), (\d+) events")
CALL = re.compile(r"^\s+(\w+)\s+(\d+)\s+(\d+)\s")


def perf_trace(binary: Path, command: str, ports: list[str], default: int | None) -> tuple[int, dict]:
    """System calls per thread name: {thread: {syscall: (calls, errors)}}."""
    with tempfile.NamedTemporaryFile(suffix=".txt") as f:
        result = run_worker(["perf", "trace", "-s", "-m", "16M", "-o", f.name, "--", str(binary)], command, ports)
        text = Path(f.name).read_text()
    if "LOST" in text:
        print(f"profile: perf trace lost events for {binary.name} `{command}`; counts are low", file=sys.stderr)
    threads: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    name = None
    for line in text.splitlines():
        m = THREAD.match(line)
        if m:
            name = m.group(1)
            continue
        m = CALL.match(line)
        if m and name:
            threads[name][m.group(1)][0] += int(m.group(2))
            threads[name][m.group(1)][1] += int(m.group(3))
    return ops_of(result, default), threads


def hot(binary: Path, command: str, ports: list[str]) -> list[str]:
    """The functions that take 1% or more of the samples of `command`."""
    with tempfile.TemporaryDirectory() as d:
        data = f"{d}/perf.data"
        run_worker(["perf", "record", "-q", "-e", "cpu-clock", "-F", "2000", "-o", data, "--", str(binary)],
                   command, ports)
        out = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--percent-limit", "1",
                              "--sort", "comm,dso,symbol"], capture_output=True, text=True).stdout
    return [" ".join(line.split()) for line in out.splitlines() if line.strip() and not line.startswith("#")]


def profile_trainer(build: Path, sizes: list[str], out: Path) -> int:
    """pyinstrument profiles of the trainer package (bench/e2e/package_trainer.py --profile)."""
    from lib.e2e import E2E, PACKAGE
    from lib.plan import FULL

    logs = build / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    L = ["# Where the trainer package's step time goes", "",
         "Written by `bench/profile.py --trainer` (pyinstrument, from bench/requirements.txt): the trainer package "
         "stepping G cartpole games of K agents with random actions (`make bench` workload 7), "
         f"{FULL.e2e_seconds:g} s of timed steps after {FULL.e2e_warmup_steps} warm-up steps. Wall time per frame; the "
         "training thread waits in `Future.result` while the hub's thread and the games work. Machine load at the "
         f"start: {open('/proc/loadavg').read().split()[0]}. Library frames are folded (pyinstrument's default).", ""]
    for size in sizes:
        games, _, agents = size.partition("x")
        with tempfile.TemporaryDirectory() as d:
            e2e = E2E(ROOT, build, Path(sys.executable), logs, build.parent / "game" / "cartpole",
                      package_args=("--profile", d))
            result = e2e.run(FULL, PACKAGE, int(games), int(agents or 1))
            if "error" in result:
                raise SystemExit(f"profile: {size}: {result['error']}")
            L += [f"## {games} games x {agents or 1} agents: {result['env_steps_per_s']:,.0f} env steps/s under the "
                  f"profiler (step p50 {result['step_p50_us']:.0f} µs)", ""]
            for name, title in (("training.txt", "training thread"), ("hub.txt", "hub's event loop thread")):
                text = [line for line in (Path(d) / name).read_text().splitlines() if line.strip()]
                L += [f"{title}:", "", "```", *text[4:60], "```", ""]
            print(f"profile: trainer {size}: {result['env_steps_per_s']:,.0f} env steps/s", flush=True)
    out.write_text("\n".join(L))
    print(f"profile: wrote {out}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, required=True)
    ap.add_argument("--trainer", action="append", default=[], metavar="GxK",
                    help="profile the trainer package with G games of K agents instead (bench/profile-trainer.md)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "profile.md")
    ap.add_argument("--row", action="append", default=[], metavar="NAME=BINARY",
                    help="profile these C-harness rows instead (e.g. wsbridge builds of design changes)")
    args = ap.parse_args()
    if args.trainer:
        return profile_trainer(args.build, args.trainer, ROOT / "bench" / "profile-trainer.md")
    rows = {n: Path(b) for n, _, b in (r.partition("=") for r in args.row)}
    if not rows:
        # Two rows may share a program (with different environments): each gets its own path,
        # a symbolic link, so that perf and ENV tell them apart.
        links = args.build / "profile-rows"
        links.mkdir(exist_ok=True)
        for name, (program, env) in ROWS.items():
            link = links / name.replace(" ", "_").replace(",", "").replace("(", "").replace(")", "")
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to((args.build / program).resolve())
            rows[name] = link
            ENV[str(link)] = env
    server, ws_port, raw_port = start_echod(args.build)
    assert server.stdin
    ports = [str(ws_port), str(raw_port)]
    L = ["# Where the time goes: wsbridge next to raw TCP and libwebsockets", "",
         "Rows: raw TCP blocking and spinning (`RAW_SPIN_US`), wsbridge with its default spin and with "
         "`spin_budget_us` 0 (`WSB_BENCH_OPTIONS`), libwebsockets. With the spin, a wait's readiness checks "
         "are `poll` calls with a zero timeout on the caller's thread: their count per operation is the spin.", "",
         f"Written by `make bench-profile` (bench/profile.py). Machine load at the start: "
         f"{open('/proc/loadavg').read().split()[0]}. CPU time and context switches: `perf stat -e "
         "task-clock,context-switches` over the whole worker process (all its threads), divided by the operations "
         "(round trips, or messages). System calls: `perf trace -s`, per thread. Each figure is one run of one "
         "command in a fresh worker, connection setup included (amortized over the operations).", ""]
    try:
        for label, command, default, per in CASES:
            L += [f"## {label} (`{command}`)", ""]
            L += ["| row | CPU µs / op | context switches / op | system calls / op, per thread |", "| --- | --- | --- | --- |"]
            for row, binary in rows.items():
                stat = perf_stat(binary, command, ports, default)
                stat = {k: v * per for k, v in stat.items()}
                ops, threads = perf_trace(binary, command, ports, default)
                ops /= per
                parts = []
                for thread, calls in threads.items():
                    total = sum(c for c, _ in calls.values()) / ops
                    main = [f"{sc} {c / ops:.2f}" + (f" ({e / ops:.2f} failed)" if e else "")
                            for sc, (c, e) in sorted(calls.items(), key=lambda kv: -kv[1][0]) if c / ops >= 0.05]
                    parts.append(f"**{thread}** {total:.2f}: " + ", ".join(main))
                L.append(f"| {row} | {stat['cpu_us']:.2f} | {stat['switches']:.2f} | {'<br>'.join(parts)} |")
                print(f"profile: {label}: {row}: {stat['cpu_us']:.2f} µs CPU, {stat['switches']:.2f} switches per op",
                      flush=True)
            L.append("")
        for row in [r for r in rows if "libwebsockets" not in r]:
            L += [f"## Hottest functions, round trip of 1 MiB, {row}", "", "`perf record -e cpu-clock`; "
                  "share of the samples of the whole process (comm, object, symbol).", "", "```"]
            L += hot(rows[row], "rtt 1048576 1000 10 60", ports)[:25]
            L += ["```", ""]
    finally:
        server.stdin.close()
        server.wait()
    args.out.write_text("\n".join(L))
    print(f"profile: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
