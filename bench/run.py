"""`make bench`: every row, every workload, side by side in one run; writes bench/results.md,
bench/results.json and bench/plots/*.png. See bench/README.md.

    python bench/run.py --build build/bench --release-lib target/release [--quick] [--rows NAME,...]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from lib import plots, report  # noqa: E402
from lib.e2e import E2E, GODOT, PACKAGE, TRAINER_AGENTS, TRAINER_GAMES, TRAINER_TRANSPORTS, TRANSPORTS  # noqa: E402
from lib.plan import FULL, GAMES, QUICK, cells  # noqa: E402
from lib.rows import Row  # noqa: E402
from lib.rows import rows as all_rows  # noqa: E402
from lib.stats import Results  # noqa: E402
from lib.targets import evaluate  # noqa: E402
from lib.workers import Worker, one_shot, start_echod  # noqa: E402


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem = next((int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    return f"{cpu}, {os.cpu_count()} cores, {mem / 2**20:.0f} GiB RAM, Linux {platform.release()}"


def output(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def versions(python: Path) -> str:
    py = output([str(python), "-c", "import sys, websockets, websocket; "
                 "print(sys.version.split()[0], websockets.__version__, websocket.__version__)"]).split()
    py += ["?"] * (3 - len(py))
    lws = output(["dpkg-query", "-W", "-f", "${Version}", "libwebsockets-dev"])
    mono = output(["mono", "--version"]).split("\n")[0].replace("Mono JIT compiler version ", "")
    return (f"rustc {output(['rustc', '--version']).split()[1:2]}, gcc {output(['gcc', '-dumpversion'])}, "
            f"libwebsockets {lws}, Mono {mono.split(' (')[0]}, Python {py[0]}, websockets {py[1]}, "
            f"websocket-client {py[2]}").replace("['", "").replace("']", "")


def load() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def package_problem(python: Path, cartpole: Path | None) -> str | None:
    """Why the trainer package's end-to-end row cannot run, or None."""
    if not (ROOT / "bindings/python/pyproject.toml").exists():
        return "needs the trainer package in bindings/python (issue 6)"
    if not cartpole or not cartpole.exists():
        return "needs its game, examples/game built as build/game/cartpole (issue 6)"
    probe = subprocess.run([str(python), "-c", "import wsbridge; wsbridge.Hub; wsbridge.RemoteVectorEnv"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"the package does not import: {probe.stderr.strip().splitlines()[-1:]}"
    return None


def godot_problem(python: Path, game: Path) -> str | None:
    """Why the Godot RL Agents row of workload 7 cannot run, or None."""
    if not game.exists():
        return f"needs its game, bench/e2e/godot_game.c built as {game} (mk/bench.mk)"
    probe = subprocess.run([str(python), "-c", "from godot_rl.core.godot_env import GodotEnv"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"godot-rl does not import: {probe.stderr.strip().splitlines()[-1:]}"
    return None


#: The workloads run.py can run (--workloads): the harness's cells (1-5), end to end (6), and
#: the trainer package against its baseline and its peer (7).
WORKLOADS = ("harness", "e2e", "trainer")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, required=True, help="where mk/bench.mk built the programs")
    ap.add_argument("--release-lib", type=Path, required=True)
    ap.add_argument("--quick", action="store_true", help="one short repetition (BENCH_QUICK=1)")
    ap.add_argument("--rows", help="comma-separated row names to run (development)")
    ap.add_argument("--no-e2e", action="store_true", help="skip the end-to-end workload (development)")
    ap.add_argument("--package-version", action="append", default=[], metavar="NAME=SRC",
                    help="workload 7: one more package row, 'package@NAME', importing wsbridge from SRC (another "
                         "version's bindings/python/src, e.g. from git archive), side by side with this one")
    ap.add_argument("--workloads", default=",".join(WORKLOADS),
                    help=f"comma-separated, among {', '.join(WORKLOADS)} (default: all; BENCH_WORKLOADS)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench")
    ap.add_argument("--cartpole", type=Path, help="the trainer package's game (examples/game), if built")
    ap.add_argument("--extra-row", action="append", default=[], metavar="NAME=COMMAND",
                    help="one more C-harness row, e.g. a wsbridge build of a design change measured side by side "
                         "with the current one (results then go to --out, not bench/)")
    args = ap.parse_args()
    workloads = set(args.workloads.split(","))
    if not workloads <= set(WORKLOADS):
        unknown = ", ".join(sorted(workloads - set(WORKLOADS)))
        ap.error(f"--workloads: {unknown} unknown (known: {', '.join(WORKLOADS)})")
    if args.no_e2e:
        workloads.discard("e2e")
    plan = QUICK if args.quick else FULL
    started = time.monotonic()
    # 1,000 connections need more descriptors than the usual soft limit of 1,024.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    logs = args.build / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    python = Path(sys.executable)
    meta = {
        "command": "make bench" + (" BENCH_QUICK=1" if args.quick else ""),
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M %Z").strip(),
        "plan": plan.name, "reps": plan.reps, "machine": machine(), "versions": versions(python),
        "load_before": load(), "commit": output(["git", "-C", str(ROOT), "describe", "--always", "--dirty"]),
        "e2e_obs": plan.e2e_obs_bytes, "e2e_action": plan.e2e_action_bytes,
        "nofile_limit": hard,
    }
    print(f"bench: {plan.name}, {plan.reps} repetition(s) on {meta['machine']}; load {meta['load_before']}", flush=True)

    wanted = set(args.rows.split(",")) if args.rows else None
    extra = [Row(name, command.split(), Path(command.split()[0]), f"{command.split()[0]} does not exist")
             for name, _, command in (e.partition("=") for e in args.extra_row)]
    candidates = [r for r in all_rows(args.build, args.release_lib, python, ROOT) + extra
                  if not wanted or r.name in wanted]
    run_rows = [r for r in candidates if r.available] if "harness" in workloads else []
    skipped = {r.name: r.missing for r in candidates if not r.available}
    for name, why in skipped.items():
        print(f"bench: row not run: {name}: {why}", flush=True)

    res = Results()
    once: set[tuple[str, str]] = set()
    durations: dict[tuple[str, str], float] = {}
    server, ws_port, raw_port = start_echod(args.build)
    workers = {r.name: Worker(r, ws_port, raw_port, logs / f"{r.name.replace(' ', '_')}.log") for r in run_rows}
    try:
        plan_cells = cells()
        # A cell that takes one row longer than plan.slow_cell_seconds (Mono's ClientWebSocket
        # opening 1,000 connections) is measured for that row in the first repetition only.
        for rep in range(plan.reps):
            for ci, cell in enumerate(plan_cells):
                cell_rows = [r for r in run_rows if cell.rows is None or r.name in cell.rows]
                if not cell_rows:
                    continue
                shift = (rep * 3 + ci) % len(cell_rows)
                order = cell_rows[shift:] + cell_rows[:shift]
                took = []
                for row in order:
                    first = durations.get((row.name, cell.key))
                    if first is not None and first > plan.slow_cell_seconds:
                        once.add((row.name, cell.key))
                        took.append(f"{row.name.split(' ')[0]} once")
                        continue
                    t0 = time.monotonic()
                    cmd = cell.command(plan)
                    result = workers[row.name].command(cmd, plan.timeout)
                    res.add(row.name, cell.key, result)
                    durations.setdefault((row.name, cell.key), time.monotonic() - t0)
                    took.append(f"{row.name.split(' ')[0]} {time.monotonic() - t0:.1f}s" + (" ERROR" if "error" in result else ""))
                print(f"bench: rep {rep + 1}/{plan.reps} {cell.key:<16} " + ", ".join(took), flush=True)
        for w in workers.values():
            w.stop()
        # Memory per idle connection: a fresh process per row, so earlier workloads leave no trace.
        for row in run_rows:
            t0 = time.monotonic()
            res.idle[row.name] = one_shot(row, ws_port, raw_port, logs / f"{row.name.replace(' ', '_')}.log",
                                          f"idle {plan.idle_connections}", plan.timeout)
            print(f"bench: idle {plan.idle_connections} connections: {row.name} {time.monotonic() - t0:.1f}s"
                  + (" ERROR" if "error" in res.idle[row.name] else ""), flush=True)
    finally:
        for w in workers.values():
            w.stop(kill=True)
        assert server.stdin
        server.stdin.close()
        server.wait()

    transports = list(TRANSPORTS)
    package_missing = package_problem(python, args.cartpole)
    if package_missing:
        skipped["trainer package (end to end)"] = package_missing
        print(f"bench: end-to-end row not run: trainer package: {package_missing}", flush=True)
    else:
        transports.append(PACKAGE)
    e2e = E2E(ROOT, args.build, python, logs, args.cartpole,
              {n: Path(src).resolve() for n, _, src in (v.partition("=") for v in args.package_version)})
    for rep in range(plan.reps if "e2e" in workloads else 0):
        for gi, games in enumerate(GAMES):
            shift = (rep + gi) % len(transports)
            for transport in transports[shift:] + transports[:shift]:
                t0 = time.monotonic()
                try:
                    result = e2e.run(plan, transport, games)
                except Exception as e:  # recorded and reported, never dropped
                    result = {"error": f"{type(e).__name__}: {e}"}
                res.e2e[(transport, games)].append(result)
                print(f"bench: rep {rep + 1}/{plan.reps} e2e {transport} {games} games {time.monotonic() - t0:.1f}s"
                      + (f" ERROR {result['error']}" if "error" in result else ""), flush=True)

    # Workload 7: the trainer package against the raw TCP trainer and Godot RL Agents' trainer.
    trainer_rows = [t for t in TRAINER_TRANSPORTS if t != PACKAGE or not package_missing]
    trainer_rows[1:1] = [] if package_missing else [f"{PACKAGE}@{name}" for name in e2e.versions]
    if wanted:  # --rows also names workload 7's rows: tcp, package, package@NAME, godot-rl
        trainer_rows = [t for t in trainer_rows if t in wanted] or trainer_rows
    godot_missing = godot_problem(python, e2e.godot_game)
    if godot_missing and "trainer" in workloads and GODOT in trainer_rows:
        skipped[f"{GODOT} (workload 7)"] = godot_missing
        print(f"bench: trainer row not run: {GODOT}: {godot_missing}", flush=True)
        trainer_rows.remove(GODOT)
    sizes = [(g, k) for g in TRAINER_GAMES for k in TRAINER_AGENTS]
    for rep in range(plan.reps if "trainer" in workloads else 0):
        for si, (games, agents) in enumerate(sizes):
            shift = (rep + si) % len(trainer_rows)
            for transport in trainer_rows[shift:] + trainer_rows[:shift]:
                t0 = time.monotonic()
                try:
                    result = e2e.run(plan, transport, games, agents)
                except Exception as e:  # recorded and reported, never dropped
                    result = {"error": f"{type(e).__name__}: {e}"}
                res.trainer[(transport, games, agents)].append(result)
                print(f"bench: rep {rep + 1}/{plan.reps} trainer {transport} {games}x{agents} "
                      f"{time.monotonic() - t0:.1f}s"
                      + (f" ERROR {result['error']}" if "error" in result else
                         f" {result['env_steps_per_s']:,.0f} steps/s"), flush=True)

    meta["load_after"] = load()
    meta["duration_s"] = time.monotonic() - started
    names = [r.name for r in run_rows]
    targets = evaluate(res, names)
    made = plots.write(res, names, args.out / "plots")
    meta["measured_once"] = sorted(f"{row}: {key} (took {durations[(row, key)]:.0f} s)" for row, key in once)
    report.write(res, targets, meta, names, skipped, args.out, made)
    errors = res.errors()
    print(f"bench: wrote {args.out / 'results.md'}, {args.out / 'results.json'} and {len(made)} plots in "
          f"{meta['duration_s'] / 60:.1f} min; {sum(1 for t in targets if t.met)} of {len(targets)} targets met"
          + (f"; {len(errors)} ERRORS (see results.md)" if errors else ""), flush=True)
    for t in targets:
        print(f"  {'met     ' if t.met else 'n/a     ' if t.met is None else 'MISSED  '} {t.text}: {t.measured}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
