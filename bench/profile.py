"""`make bench-profile`: where the time of a wsbridge message goes, next to raw TCP and
libwebsockets: CPU time and context switches per operation (perf stat, software counters, so it
works on virtual machines without hardware counters), system calls per operation and thread
(perf trace), and the hottest functions of a 1 MiB round trip (perf record). Writes
bench/profile.md.

    python bench/profile.py --build build/bench
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from lib.rows import LWS, RAW, WSB_C
from lib.workers import start_echod

ROOT = Path(__file__).resolve().parents[1]

ROWS = {RAW: "raw_tcp", WSB_C: "wsb_c", LWS: "lws_c"}
CASES = [
    # (label, command, operations it makes when it does not report them, operations per "op")
    ("round trip, 64 B; op = one round trip", "rtt 64 20000 500 60", 20500, 1),
    ("round trip, 1 MiB; op = one round trip", "rtt 1048576 1000 10 60", 1010, 1),
    ("download, 64 B messages; op = 1,000 messages received", "download 64 65536 1.0", None, 1000),
    ("upload, 1 MiB messages; op = one message sent", "upload 1048576 1000000000 1.0", None, 1),
]


def run_worker(argv: list[str], command: str, ports: list[str]) -> dict:
    """Runs one command in a fresh worker under `argv` (a perf prefix); its JSON answer."""
    proc = subprocess.run([*argv, "--ws-port", ports[0], "--raw-port", ports[1]], input=f"{command}\nquit\n",
                          capture_output=True, text=True, timeout=600)
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "profile.md")
    ap.add_argument("--row", action="append", default=[], metavar="NAME=BINARY",
                    help="profile these C-harness rows instead (e.g. wsbridge builds of design changes)")
    args = ap.parse_args()
    rows = {n: Path(b) for n, _, b in (r.partition("=") for r in args.row)} or {n: args.build / e for n, e in ROWS.items()}
    server, ws_port, raw_port = start_echod(args.build)
    assert server.stdin
    ports = [str(ws_port), str(raw_port)]
    L = ["# Where the time goes: wsbridge next to raw TCP and libwebsockets", "",
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
