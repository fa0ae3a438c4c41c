"""`make test-scale`: 1,000 games on 4 game hosts, one nginx TLS endpoint, a lobby, 4 trainer hubs.

    run.py [--games 1000] [--hosts 4] [--procs 2] [--trainers 4] [--slots 400] [--mode lobby|fixed]
           [--out build/scale]

Everything runs on this machine, in network namespaces this script makes and removes:

- ``<prefix>-edge``: the public endpoint and the trainers. A bridge ``br0`` (10.250.0.1/24) that
  the game hosts plug into; nginx (TLS, a certificate for trainers.example.com from a CA made
  for the run) on 10.250.0.1, a free port; behind it, on 127.0.0.1, the lobby
  (``python -m wsbridge.lobby``) and the trainer hubs (tests/scale/trainer.py). nginx's
  configuration is the one in docs/deploy.md, section *Scale test*, with only ports and paths
  swapped.
- ``<prefix>-h0`` ... : the game hosts, each plugged into br0 by a veth pair (10.250.0.10, .11,
  ...), each running ``--procs`` processes of tests/scale/multigame.c, many games per process.

Games connect to ``wss://10.250.0.1:<port>/lobby`` (mode lobby: the lobby assigns each a free
slot of some hub, ``wss://10.250.0.1:<port>/hub/<k>/env/<slot>``) or straight to a slot (mode
fixed). Once every game is serving, the run measures env steps/s, then injects three faults,
each time waiting until every game is serving again:

1. kill the trainer with the most games (SIGKILL); mode lobby: its games go back to the lobby
   and land on the other hubs, then it restarts (and registers its free slots again); mode fixed:
   it restarts at once on its port and its games come back to their slots;
2. restart nginx (SIGTERM: every connection drops; a new nginx takes over the listening socket);
3. take one game host's link down for LINK_DOWN seconds (``ip link set down``), then up.

Then the trainers stop (every game gets 1000 and exits) and the logs are checked: every request
and answer is counted on both sides (each trainer logs what it sent and accepted, each game what
it received and submitted), and no answer the trainers accepted may be lost, duplicated, or
answer another request; an answer or request may go missing only in flight at a connection cut.
The figures (connections/s through the lobby, env steps/s at N games, trainer memory per game,
the time a killed trainer's games take to serve again, episodes cut by each fault) are printed
and written to ``<out>/results.md``. The run is bounded (each wait has a deadline; ``make``
also wraps it in ``timeout``), and removes its namespaces and processes whatever happens (a
later run also removes those of a run that was killed).
"""

from __future__ import annotations

import argparse
import atexit
import collections
import ctypes
import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "network"))

import pki as pki_module  # noqa: E402
from daemons import Daemon, nginx  # noqa: E402

DOC = ROOT / "docs" / "deploy.md"
BUILD = Path(os.environ.get("WSB_BUILD_DIR", ROOT / "build"))
MULTIGAME = BUILD / "tests" / "scale" / "multigame"
TRAINER = HERE / "trainer.py"
PREFIX = "wsbscale"
SUBNET = "10.250.0"
EDGE_IP = f"{SUBNET}.1"
PUBLIC_NAME = "trainers.example.com"
TOKEN = "scale-test-token"
HUB_TOKEN = "scale-test-hub-token"
LINK_DOWN = 4.0  # seconds a host's link stays down
CONNECT_DEADLINE = 120.0  # every game serving after the launch
RECOVER_DEADLINE = 90.0  # every game serving again after a fault
STEADY_SECONDS = 10.0  # the window env steps/s are measured over
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1

libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent() -> None:
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# ---- network namespaces -------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def nginx_pids() -> list[int]:
    """The nginx processes in this process's network namespace (the run's own nginx)."""
    mine = os.stat("/proc/self/ns/net").st_ino
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == "nginx" and os.stat(entry / "ns" / "net").st_ino == mine:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent busy so far (/proc/stat, all processes)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICKS


def namespaces() -> list[str]:
    out = sh("ip", "netns", "list").stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def remove_namespace(name: str) -> None:
    """Kills whatever still runs in the namespace ``name`` (only this script's runs make
    namespaces with its prefix), then deletes it (its veth pairs and bridge go with it)."""
    pids = sh("ip", "netns", "pids", name, check=False).stdout.split()
    for pid in pids:
        if int(pid) == os.getpid():  # this process lives in the edge namespace
            continue
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    sh("ip", "netns", "del", name, check=False)


def sweep_stale() -> None:
    """Removes the namespaces of earlier runs whose process is gone (a run that was killed)."""
    for name in namespaces():
        m = re.fullmatch(rf"{PREFIX}(\d+)-\w+", name)
        if m and not pid_alive(int(m.group(1))):
            say(f"removing {name}, left by a run that is gone")
            remove_namespace(name)


class Network:
    """The edge namespace with its bridge, and one namespace per game host plugged into it."""

    def __init__(self, hosts: int) -> None:
        self.prefix = f"{PREFIX}{os.getpid()}"
        self.edge = f"{self.prefix}-edge"
        self.hosts = [f"{self.prefix}-h{i}" for i in range(hosts)]
        self.made: list[str] = []

    def host_ip(self, i: int) -> str:
        return f"{SUBNET}.{10 + i}"

    def create(self) -> None:
        for name in [self.edge, *self.hosts]:
            sh("ip", "netns", "add", name)
            self.made.append(name)
            sh("ip", "-n", name, "link", "set", "lo", "up")
        e = self.edge
        sh("ip", "-n", e, "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0")
        sh("ip", "-n", e, "addr", "add", f"{EDGE_IP}/24", "dev", "br0")
        sh("ip", "-n", e, "link", "set", "br0", "up")
        for i, host in enumerate(self.hosts):
            port = f"h{i}"
            sh("ip", "-n", e, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", host)
            sh("ip", "-n", e, "link", "set", port, "master", "br0", "up")
            sh("ip", "-n", host, "addr", "add", f"{self.host_ip(i)}/24", "dev", "eth0")
            sh("ip", "-n", host, "link", "set", "eth0", "up")

    def enter_edge(self) -> None:
        """Moves this process (its main thread, before any other starts) into the edge namespace:
        sockets it opens and processes it starts from now on live there."""
        fd = os.open(f"/run/netns/{self.edge}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"setns({self.edge}): {os.strerror(err)}")
        finally:
            os.close(fd)

    def link(self, i: int, up: bool) -> None:
        sh("ip", "-n", self.hosts[i], "link", "set", "eth0", "up" if up else "down")

    def destroy(self) -> None:
        for name in reversed(self.made):
            remove_namespace(name)
        self.made.clear()


# ---- processes --------------------------------------------------------------------------


class Children:
    """Every process this run starts, so that all of them are killed whatever happens."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[Any]] = []

    def start(self, cmd: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
        proc = subprocess.Popen(cmd, preexec_fn=die_with_parent, **kwargs)
        self.procs.append(proc)
        return proc

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


class Watched:
    """Reads a child's stdout lines on a thread: ``PORT`` and ``STAT`` lines update its state and
    wake up whoever waits on ``changed``."""

    def __init__(self, name: str, proc: subprocess.Popen[str], changed: threading.Condition, copy: Path) -> None:
        self.name, self.proc, self.changed = name, proc, changed
        self.port: int | None = None
        self.stats: list[dict[str, float]] = []
        self.lines: list[str] = []
        self.ended = False
        self.copy = copy.open("a")
        threading.Thread(target=self.read, daemon=True).start()

    def read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.copy.write(line)
            self.copy.flush()
            with self.changed:
                self.lines.append(line.rstrip())
                if line.startswith("PORT ") or (self.port is None and line.strip().isdigit()):
                    self.port = int(line.split()[-1])  # trainers print "PORT n", the lobby "n"
                elif line.startswith("STAT "):
                    self.stats.append({k: float(v) for k, v in (f.split("=") for f in line.split()[1:])})
                self.changed.notify_all()
        with self.changed:
            self.ended = True
            self.changed.notify_all()

    @property
    def active(self) -> int:
        return int(self.stats[-1]["active"]) if self.stats and not self.ended else 0

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for {self.name}")


# ---- nginx ------------------------------------------------------------------------------

# What docs/deploy.md's scale block says, and what the test runs instead (each must appear once).
DOC_HUB_PORT = 8100  # hub k: 8100 + k
DOC_LOBBY_PORT = 9000


def scale_block() -> str:
    text = DOC.read_text()
    section = re.split(r"^## (?:\d+\. )?Scale test\n", text, maxsplit=1, flags=re.M)
    if len(section) != 2:
        raise RuntimeError(f"{DOC} has no section '## Scale test'")
    blocks = re.findall(r"```nginx\n(.*?)```", section[1], re.S)
    if not blocks:
        raise RuntimeError(f"{DOC}, section 'Scale test', has no ```nginx block")
    return blocks[0]


def nginx_config(directory: Path, port: int, hub_ports: list[int], lobby_port: int, pki: pki_module.Pki) -> str:
    block = scale_block()
    swaps = [
        ("listen 443 ssl;", f"listen {EDGE_IP}:{port} ssl;"),
        (f"127.0.0.1:{DOC_LOBBY_PORT};", f"127.0.0.1:{lobby_port};"),
        ("/etc/ssl/trainers/fullchain.pem", str(pki.public.cert)),
        ("/etc/ssl/trainers/privkey.pem", str(pki.public.key)),
        ("/var/log/nginx/trainers.access.log", str(directory / "access.log")),
        # Test-only: run unprivileged in the foreground, everything in `directory`.
        ("worker_processes 1;", f"daemon off;\npid {directory}/nginx.pid;\nerror_log stderr notice;\n"
                                "worker_processes 1;"),
        ("http {", f"http {{\n    client_body_temp_path {directory}/body;\n    proxy_temp_path {directory}/proxy;\n"
                   f"    fastcgi_temp_path {directory}/fastcgi;\n    uwsgi_temp_path {directory}/uwsgi;\n"
                   f"    scgi_temp_path {directory}/scgi;"),
    ]
    swaps += [(f"127.0.0.1:{DOC_HUB_PORT + k};", f"127.0.0.1:{p};") for k, p in enumerate(hub_ports)]
    for documented, tested in swaps:
        if block.count(documented) != 1:
            raise RuntimeError(f"docs/deploy.md's scale nginx block must contain {documented!r} exactly once")
        block = block.replace(documented, tested)
    if re.search(rf"127\.0\.0\.1:{DOC_HUB_PORT + len(hub_ports)};", block):
        raise RuntimeError(f"docs/deploy.md's scale nginx block has more hubs than the {len(hub_ports)} the test runs")
    return block


# ---- the run ----------------------------------------------------------------------------


@dataclass
class Fault:
    name: str
    start: float
    end: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Path(args.out).resolve()
        self.net = Network(args.hosts)
        self.children = Children()
        self.changed = threading.Condition()
        self.trainers: list[Watched | None] = [None] * args.trainers
        self.all_trainers: list[Watched] = []  # every trainer process, killed ones included
        self.trainer_ports: list[int] = [0] * args.trainers
        self.trainer_runs = [0] * args.trainers
        self.lobby: Watched | None = None
        self.games: dict[str, subprocess.Popen[str]] = {}  # by name, e.g. "h0p1"
        self.nginx: Daemon | None = None
        self.listener: socket.socket | None = None
        self.faults: list[Fault] = []
        self.failures: list[str] = []
        self.figures: dict[str, Any] = {}

    # -- parts --

    def start_trainer(self, k: int) -> None:
        self.trainer_runs[k] += 1
        log = self.out / f"trainer{k}.{self.trainer_runs[k]}.log"
        cmd = [sys.executable, str(TRAINER), "--index", str(k), "--run", str(self.trainer_runs[k]),
               "--slots", str(self.args.slots),
               "--port", str(self.trainer_ports[k]), "--log", str(log), "--token", TOKEN]
        if self.args.mode == "lobby":
            assert self.lobby is not None and self.lobby.port and self.listener
            port = self.listener.getsockname()[1]
            cmd += ["--lobby", f"ws://127.0.0.1:{self.lobby.port}/lobby/hubs", "--lobby-token", HUB_TOKEN,
                    "--advertise", f"wss://{EDGE_IP}:{port}/hub/{k}"]
        stderr = (self.out / f"trainer{k}.{self.trainer_runs[k]}.err").open("w")
        proc = self.children.start(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True)
        watched = Watched(f"trainer {k}", proc, self.changed, self.out / f"trainer{k}.{self.trainer_runs[k]}.out")
        self.trainers[k] = watched
        self.all_trainers.append(watched)
        self.wait(lambda: watched.port is not None or watched.ended, 60, f"trainer {k} to listen")
        if watched.port is None:
            raise RuntimeError(f"trainer {k} did not start: see {stderr.name}")
        self.trainer_ports[k] = watched.port

    def start_lobby(self) -> None:
        cmd = [sys.executable, "-m", "wsbridge.lobby", "--host", "127.0.0.1", "--port", "0"]
        tokens = {"WSBRIDGE_LOBBY_TOKEN": TOKEN, "WSBRIDGE_LOBBY_HUB_TOKEN": HUB_TOKEN}
        stderr = (self.out / "lobby.err").open("w")
        proc = self.children.start(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                   env={**os.environ, **tokens})
        self.lobby = Watched("lobby", proc, self.changed, self.out / "lobby.out")
        lobby = self.lobby
        self.wait(lambda: lobby.port is not None or lobby.ended, 60, "the lobby to listen")
        if lobby.port is None:
            raise RuntimeError(f"the lobby did not start: see {stderr.name}")

    def start_nginx(self, pki: pki_module.Pki) -> None:
        assert self.listener is not None
        directory = self.out / "nginx"
        lobby_port = self.lobby.port if self.lobby and self.lobby.port else DOC_LOBBY_PORT
        config = nginx_config(directory, self.listener.getsockname()[1], self.trainer_ports, lobby_port, pki)
        self.nginx = nginx(config, directory, self.listener, log=self.out / "nginx.log")

    def start_games(self, pki: pki_module.Pki) -> float:
        port = self.listener.getsockname()[1] if self.listener else 0
        per_proc = [self.args.games // (self.args.hosts * self.args.procs)] * (self.args.hosts * self.args.procs)
        for i in range(self.args.games - sum(per_proc)):
            per_proc[i] += 1
        launched = time.time()
        n = 0
        for h in range(self.args.hosts):
            for p in range(self.args.procs):
                count = per_proc[h * self.args.procs + p]
                name = f"h{h}p{p}"
                cmd = [str(MULTIGAME), "--name", name, "--token", TOKEN, "--ca", str(pki.ca),
                       "--server-name", PUBLIC_NAME, "--seconds", str(self.args.deadline)]
                if self.args.mode == "lobby":
                    cmd += ["--lobby", f"wss://{EDGE_IP}:{port}/lobby", "--games", str(count)]
                else:
                    urls = self.out / f"{name}.urls"
                    lines = []
                    for _ in range(count):
                        k, slot = n % self.args.trainers, n // self.args.trainers
                        lines.append(f"wss://{EDGE_IP}:{port}/hub/{k}/env/{slot}")
                        n += 1
                    urls.write_text("\n".join(lines) + "\n")
                    cmd += ["--urls", str(urls)]
                stdout = (self.out / f"{name}.out").open("w")
                stderr = (self.out / f"{name}.err").open("w")
                self.games[name] = self.children.start(["ip", "netns", "exec", self.net.hosts[h], *cmd],
                                                       stdout=stdout, stderr=stderr, text=True)
        return launched

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of each part of the run, and of the whole machine."""
        parts = {
            "trainers": sum(cpu_seconds(t.proc.pid) for t in self.trainers if t is not None),
            "nginx": sum(cpu_seconds(p) for p in nginx_pids()),
            "games": sum(cpu_seconds(g.pid) for g in self.games.values()),
            "lobby": cpu_seconds(self.lobby.proc.pid) if self.lobby else 0.0,
        }
        parts["machine (all processes)"] = machine_busy_seconds()
        return parts

    # -- waiting --

    def wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> bool:
        with self.changed:
            if self.changed.wait_for(predicate, timeout):
                return True
        self.failures.append(f"timed out after {timeout:g} s waiting for {what}")
        say(self.failures[-1])
        return False

    def active(self) -> int:
        return sum(t.active for t in self.trainers if t is not None)

    def wait_all_serving(self, timeout: float, what: str) -> bool:
        """Until every game answered in the trainers' latest second (each trainer's STAT line)."""
        n = self.args.games
        return self.wait(lambda: self.active() >= n, timeout, f"{n} games serving {what} (serving: {self.active()})")

    def wait_next_stats(self) -> None:
        """Until every running trainer printed a STAT line after now (so `active` is current)."""
        marks = {id(t): len(t.stats) for t in self.trainers if t is not None}
        self.wait(lambda: all(len(t.stats) > marks[id(t)] + 1 or t.ended for t in self.trainers if t is not None),
                  10, "the trainers' next STAT lines")

    # -- scenario --

    def run(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        for old in self.out.glob("*"):
            if old.is_file():
                old.unlink()
        sweep_stale()
        self.net.create()
        say(f"namespaces: {self.net.edge} (bridge {EDGE_IP}/24, nginx, lobby, trainers), "
            + ", ".join(f"{h} ({self.net.host_ip(i)})" for i, h in enumerate(self.net.hosts)))
        self.net.enter_edge()
        pki = pki_module.make(self.out)
        self.listener = socket.socket()
        self.listener.bind((EDGE_IP, 0))
        self.listener.listen(4096)
        if self.args.mode == "lobby":
            self.start_lobby()
        for k in range(self.args.trainers):
            self.start_trainer(k)
        self.start_nginx(pki)
        port = self.listener.getsockname()[1]
        say(f"nginx on {EDGE_IP}:{port}, trainers on 127.0.0.1:{', '.join(map(str, self.trainer_ports))}"
            + (f", lobby on 127.0.0.1:{self.lobby.port}" if self.lobby else ""))
        self.wait_next_stats()
        base_rss = [t.rss_kib() for t in self.trainers if t is not None]

        self.figures["load"] = f"{os.getloadavg()[0]:.1f}"
        say(f"launching {self.args.games} games: {self.args.hosts} hosts x {self.args.procs} processes")
        launched = self.start_games(pki)
        if not self.wait_all_serving(CONNECT_DEADLINE, "after the launch"):
            return
        self.figures["all_serving_s"] = time.time() - launched
        self.figures["launched"] = launched

        # Steady state: steps/s over a window, and trainer memory.
        say(f"all {self.args.games} games serving after {self.figures['all_serving_s']:.1f} s; "
            f"measuring {STEADY_SECONDS:g} s")
        t0 = time.time()
        cpu0 = self.cpu()
        self.wait(lambda: time.time() >= t0 + STEADY_SECONDS and all(
            t.stats and t.stats[-1]["t"] >= t0 + STEADY_SECONDS for t in self.trainers if t is not None),
            STEADY_SECONDS + 10, "the steady window")
        self.figures["steady"] = (t0, time.time())
        cpu1, span = self.cpu(), time.time() - t0
        self.figures["steady_cpu"] = {k: round((cpu1[k] - cpu0[k]) / span, 2) for k in cpu0}
        games_per_trainer = [int(t.stats[-1]["games"]) for t in self.trainers if t is not None]
        rss = [t.rss_kib() for t in self.trainers if t is not None]
        self.figures["rss"] = {"base_kib": base_rss, "steady_kib": rss, "games": games_per_trainer}

        self.fault_kill()
        self.fault_nginx(pki)
        self.fault_link()

    def fault_kill(self) -> None:
        k = max(range(self.args.trainers), key=lambda i: self.trainers[i].stats[-1]["games"])  # type: ignore
        victim = self.trainers[k]
        assert victim is not None
        had = int(victim.stats[-1]["games"])
        fault = Fault(f"kill trainer {k}", time.time(), detail={"trainer": k, "games": had})
        self.faults.append(fault)
        say(f"fault 1: SIGKILL trainer {k} (pid {victim.proc.pid}, {had} games)")
        victim.proc.kill()
        victim.proc.wait()
        fault.start = time.time()
        self.trainers[k] = None
        if self.args.mode == "lobby":
            ok = self.wait_all_serving(RECOVER_DEADLINE, f"on the other trainers after trainer {k} was killed")
            fault.end = time.time()
            fault.detail["landed_elsewhere"] = ok
            fault.detail["games per trainer after"] = [int(t.stats[-1]["games"]) if t else 0 for t in self.trainers]
            say(f"trainer {k}'s games serve elsewhere after {fault.end - fault.start:.1f} s; restarting it")
            self.start_trainer(k)
            restarted = self.trainers[k]
            assert restarted is not None
            fault.detail["restarted trainer registered again"] = self.wait(
                lambda: bool(restarted.stats) and restarted.stats[-1].get("registered") == 1, 30,
                f"the restarted trainer {k} to register with the lobby")
        else:
            self.start_trainer(k)
            self.wait_next_stats()
            self.wait_all_serving(RECOVER_DEADLINE, f"after trainer {k} restarted")
            fault.end = time.time()
            say(f"every game serving again {fault.end - fault.start:.1f} s after the kill")
        self.wait_next_stats()

    def fault_nginx(self, pki: pki_module.Pki) -> None:
        assert self.nginx is not None
        fault = Fault("restart nginx", time.time())
        self.faults.append(fault)
        say("fault 2: restart nginx (SIGTERM, then a new nginx on the same listening socket)")
        self.nginx.stop()
        fault.detail["stopped_after_s"] = round(time.time() - fault.start, 2)
        self.start_nginx(pki)
        self.wait_next_stats()
        self.wait_all_serving(RECOVER_DEADLINE, "after the nginx restart")
        fault.end = time.time()
        say(f"every game serving again {fault.end - fault.start:.1f} s after the restart began")
        self.wait_next_stats()

    def fault_link(self) -> None:
        h = self.args.hosts - 1
        fault = Fault(f"link of host {h} down {LINK_DOWN:g} s", time.time(), detail={"host": h})
        self.faults.append(fault)
        say(f"fault 3: ip link set down on {self.net.hosts[h]} for {LINK_DOWN:g} s")
        self.net.link(h, up=False)
        # The fault itself lasts a set time: nothing to wait for.
        time.sleep(LINK_DOWN)
        self.net.link(h, up=True)
        fault.detail["up_at"] = time.time()
        self.wait_next_stats()
        self.wait_all_serving(RECOVER_DEADLINE, "after the link came back")
        fault.end = time.time()
        fault.detail["serving_after_up_s"] = round(fault.end - fault.detail.pop("up_at"), 2)
        say(f"every game serving again {fault.detail['serving_after_up_s']:.1f} s after the link came back")
        self.wait_next_stats()

    def stop(self) -> None:
        """Trainers stop (their games get 1000 and exit), then the lobby and nginx."""
        self.figures["load"] = f"{self.figures.get('load', '?')} / {os.getloadavg()[0]:.1f}"
        say("stopping the trainers")
        for t in self.trainers:
            if t is not None and t.proc.stdin:
                t.proc.stdin.close()
        for t in self.trainers:
            if t is not None:
                try:
                    t.proc.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    self.failures.append(f"{t.name} did not stop within 40 s")
                    t.proc.kill()
        deadline = time.monotonic() + 30
        for name, g in self.games.items():
            try:
                g.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                # Its games did not all get the trainers' 1000: SIGTERM makes it close them and
                # report each (the check then names the games that did not finish).
                self.failures.append(f"game process {name} did not exit within 30 s of the trainers' stop")
                g.terminate()
        for name, g in self.games.items():
            try:
                g.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.failures.append(f"game process {name} did not stop within 15 s of SIGTERM")
                g.kill()
        if self.lobby and self.lobby.proc.stdin:
            self.lobby.proc.stdin.close()
            try:
                self.lobby.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.lobby.proc.kill()
        if self.nginx:
            self.nginx.stop()

    def cleanup(self) -> None:
        self.children.kill_all()
        if self.listener:
            self.listener.close()
        self.net.destroy()


# ---- checking the counts ------------------------------------------------------------------


@dataclass
class GameRecord:
    end: dict[str, str] | None = None
    cuts: list[dict[str, Any]] = field(default_factory=list)
    connects: list[float] = field(default_factory=list)
    serving: list[float] = field(default_factory=list)
    sent: int = 0  # requests the trainers logged for it
    accepted: dict[int, int] = field(default_factory=dict)  # answer number s -> request q
    duplicates: int = 0
    unknown_q: int = 0
    unanswered: int = 0  # requests the trainers saw cut


def fields(parts: list[str]) -> dict[str, str]:
    return dict(p.split("=", 1) for p in parts if "=" in p)


def analyse(run: Run) -> dict[str, Any]:
    out = run.out
    games: dict[str, GameRecord] = collections.defaultdict(GameRecord)
    for path in sorted(out.glob("h*p*.out")):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue
            kind, name, f = parts[0], parts[1], fields(parts[2:])
            if kind == "end":
                games[name].end = f
            elif kind == "cut":
                games[name].cuts.append({"t": float(f["t"]), "in_episode": f["in_episode"] == "1",
                                         "last_s": int(f["last_s"]), "code": f["code"]})
            elif kind == "connect":
                games[name].connects.append(float(f["t"]))
            elif kind == "serving":
                games[name].serving.append(float(f["t"]))
    requests: dict[str, set[int]] = collections.defaultdict(set)
    answered_q: collections.Counter[int] = collections.Counter()
    for path in sorted(out.glob("trainer*.log")):
        for line in path.read_text().splitlines():
            parts = line.split()
            if parts[0] == "R":
                requests[parts[1]].add(int(parts[2]))
                games[parts[1]].sent += 1
            elif parts[0] == "A":
                g = games[parts[1]]
                s, q = int(parts[2]), int(parts[3])
                if s in g.accepted:
                    g.duplicates += 1
                g.accepted[s] = q
                answered_q[q] += 1
            elif parts[0] == "X":
                games[parts[1]].unanswered += 1

    totals: collections.Counter[str] = collections.Counter()
    problems: list[str] = []
    for name, g in sorted(games.items()):
        if g.end is None:
            problems.append(f"{name}: no end line (the process died?)")
            continue
        submitted, received = int(g.end["submitted"]), int(g.end["received"])
        cut_last = {c["last_s"] for c in g.cuts}
        missing = set(range(1, submitted + 1)) - set(g.accepted)
        unexplained = missing - cut_last
        beyond = [s for s in g.accepted if s > submitted or s < 1]
        wrong_q = [s for s, q in g.accepted.items() if q not in requests[name]]
        if g.end["result"] != "finished":
            problems.append(f"{name}: ended with {g.end['result']}, not the trainer's 1000")
        if g.duplicates:
            problems.append(f"{name}: {g.duplicates} answers accepted twice")
        if unexplained:
            problems.append(f"{name}: answers {sorted(unexplained)[:5]} were submitted, never accepted, and not in "
                            "flight at a cut")
        if beyond or wrong_q:
            problems.append(f"{name}: answers accepted that the game never sent ({beyond[:5]}) or that answer a "
                            f"request not sent to it ({wrong_q[:5]})")
        if received > g.sent:
            problems.append(f"{name}: received {received} requests, the trainers sent {g.sent}")
        if g.sent - received > len(g.cuts):
            problems.append(f"{name}: {g.sent - received} requests never arrived, more than its {len(g.cuts)} cuts")
        totals["games"] += 1
        totals["requests sent (trainers)"] += g.sent
        totals["requests received (games)"] += received
        totals["answers submitted (games)"] += submitted
        totals["answers accepted (trainers)"] += len(g.accepted)
        totals["answers lost in flight at a cut"] += len(missing)
        totals["requests lost in flight at a cut"] += g.sent - received
        totals["answers accepted twice"] += g.duplicates
        totals["answers to another request"] += len(wrong_q)
        totals["steps"] += int(g.end["steps"])
        totals["episodes"] += int(g.end["episodes"])
        totals["connection cuts (games)"] += len(g.cuts)
        totals["requests cut (trainers)"] += g.unanswered
    totals["requests answered twice"] = sum(1 for c in answered_q.values() if c > 1)
    if len(games) != run.args.games:
        problems.append(f"{len(games)} games reported, {run.args.games} were launched")

    # Each cut belongs to the fault whose window holds it (window: the fault's start to its end).
    per_fault = []
    for fault in run.faults:
        lo, hi = fault.start - 0.5, (fault.end or time.time()) + 1.0
        cut = [(name, c) for name, g in games.items() for c in g.cuts if lo <= c["t"] <= hi]
        recovery, reconnected = [], []
        for name, c in cut:
            back = [t for t in games[name].serving if t > c["t"]]
            if back:
                recovery.append(back[0] - fault.start)
            again = [t for t in games[name].connects if t > c["t"]]
            if again:
                reconnected.append(again[0] - fault.start)
        per_fault.append({
            "fault": fault.name,
            "games cut": len({name for name, _ in cut}),
            "connections cut": len(cut),
            "episodes cut": sum(c["in_episode"] for _, c in cut),
            "serving again (s): median": round(statistics.median(recovery), 2) if recovery else None,
            "serving again (s): max": round(max(recovery), 2) if recovery else None,
            "connected again (s): median / max": (f"{statistics.median(reconnected):.2f} / {max(reconnected):.2f}"
                                                  if reconnected else None),
            "window (s)": round((fault.end or time.time()) - fault.start, 2),
            **fault.detail,
        })
    attributed = sum(p["connections cut"] for p in per_fault)
    if attributed != totals["connection cuts (games)"]:
        problems.append(f"{totals['connection cuts (games)'] - attributed} connection cuts outside every fault window")

    # Figures.
    figures: dict[str, Any] = {}
    first = sorted(g.connects[0] for g in games.values() if g.connects)
    if first and "launched" in run.figures:
        span = first[-1] - run.figures["launched"]
        figures["connections/s (first connection of each game, launch to last)"] = round(len(first) / span, 1)
        figures["launch to every game connected (s)"] = round(span, 2)
    if "steady" in run.figures:
        t0, t1 = run.figures["steady"]
        rate = 0.0
        for t in (w.stats for w in run.all_trainers):
            inside = [s for s in t if t0 <= s["t"] <= t1]
            if len(inside) >= 2:
                rate += (inside[-1]["accepted"] - inside[0]["accepted"]) / (inside[-1]["t"] - inside[0]["t"])
        figures[f"env steps/s at {run.args.games} games"] = round(rate)
    if "steady_cpu" in run.figures:
        figures[f"CPU in that window (cores busy; the machine has {os.cpu_count()})"] = run.figures["steady_cpu"]
    if "rss" in run.figures:
        r = run.figures["rss"]
        per_game = [(s - b) / n for b, s, n in zip(r["base_kib"], r["steady_kib"], r["games"]) if n]
        figures["trainer RSS per game (KiB, mean over trainers)"] = round(statistics.mean(per_game), 1)
        figures["trainer RSS (MiB): idle / with games"] = (
            f"{[round(b / 1024) for b in r['base_kib']]} / {[round(s / 1024) for s in r['steady_kib']]} "
            f"with {r['games']} games")
    # What nginx answered, by route (its access log: one line per request, status after the request).
    statuses: collections.Counter[str] = collections.Counter()
    log = out / "nginx" / "access.log"
    if log.exists():
        for line in log.read_text().splitlines():
            m = re.search(r'"GET (/lobby|/hub/\d+)\S*" (\d+)', line)
            if m:
                statuses[f"{'lobby' if m.group(1) == '/lobby' else 'hubs'} {m.group(2)}"] += 1
    figures["nginx access log (route status: count; nginx logs a connection when it ends, and none of those a fast shutdown cuts)"] = dict(sorted(statuses.items()))
    figures["load average (1 min) at the start / the end"] = run.figures.get("load")
    return {"totals": dict(totals), "faults": per_fault, "figures": figures, "problems": problems}


def report(run: Run, result: dict[str, Any]) -> str:
    a = run.args
    lines = [f"# make test-scale: {a.games} games, {a.hosts} hosts x {a.procs} processes, {a.trainers} trainers "
             f"x {a.slots} slots, mode {a.mode}", "", "## Figures", ""]
    lines += [f"- {k}: {v}" for k, v in result["figures"].items()]
    lines += ["", "## Faults", "", "| fault | games cut | connections cut | episodes cut | connected again: median / "
              "max (s from the fault) | serving again: median / max (s from the fault) | details |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    shown = ("fault", "games cut", "connections cut", "episodes cut", "connected again (s): median / max",
             "serving again (s): median", "serving again (s): max")
    for f in result["faults"]:
        rest = {k: v for k, v in f.items() if k not in shown}
        lines.append(f"| {f['fault']} | {f['games cut']} | {f['connections cut']} | {f['episodes cut']} | "
                     f"{f['connected again (s): median / max']} | {f['serving again (s): median']} / "
                     f"{f['serving again (s): max']} | {json.dumps(rest)} |")
    lines += ["", "## Counts (both sides)", ""]
    lines += [f"- {k}: {v}" for k, v in result["totals"].items()]
    problems = result["problems"] + run.failures
    lines += ["", "## Result", ""]
    lines += [f"- FAILED: {p}" for p in problems] or ["- passed: no answer the trainers accepted was lost, "
                                                       "duplicated or answered another request"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--procs", type=int, default=2, help="game processes per host")
    parser.add_argument("--trainers", type=int, default=4)
    parser.add_argument("--slots", type=int, default=400, help="slots per trainer")
    parser.add_argument("--mode", choices=("lobby", "fixed"), default="lobby")
    parser.add_argument("--deadline", type=float, default=420, help="games stop by themselves after this")
    parser.add_argument("--out", default=str(BUILD / "scale"))
    parser.add_argument("--sweep", action="store_true", help="only remove what killed runs left")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("error: make test-scale makes network namespaces: run it as root", file=sys.stderr)
        return 1
    if args.sweep:
        sweep_stale()
        return 0
    if not MULTIGAME.exists():
        print(f"error: {MULTIGAME} is missing: run `make test-scale`", file=sys.stderr)
        return 1
    if args.mode == "fixed" and args.games > args.trainers * args.slots:
        print("error: more games than slots", file=sys.stderr)
        return 1
    # Every child inherits the limit: nginx needs two descriptors per game, a trainer one per game.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 4 * args.games + 1024
    if hard != resource.RLIM_INFINITY and hard < needed:
        print(f"error: {args.games} games need about {needed} file descriptors per process; the hard limit "
              f"(ulimit -Hn) is {hard}", file=sys.stderr)
        return 1
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    run = Run(args)

    def on_signal(signum: int, _frame: Any) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    atexit.register(run.cleanup)
    try:
        run.run()
        run.stop()
    except BaseException as e:
        run.failures.append(f"the run stopped: {type(e).__name__}: {e}")
        say(run.failures[-1])
    finally:
        run.cleanup()
    result = analyse(run)
    text = report(run, result)
    (run.out / "results.md").write_text(text)
    (run.out / "results.json").write_text(json.dumps(result, indent=2, default=str))
    print("\n" + text)
    return 1 if result["problems"] or run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
