"""What one `make bench` run measures: the workloads, their sizes and counts, full or quick.

Every workload cell is run for every row in each repetition, rows side by side (their order
rotates from cell to cell and from repetition to repetition), so machine noise hits all rows
alike. Counts are fixed, or bounded by time for the rows that are too slow to reach them, so a
full run stays around ten minutes on two cores.
"""

from __future__ import annotations

from dataclasses import dataclass

from .rows import C_HARNESS

SIZES = (64, 1024, 65536, 1 << 20)
CONNECTIONS = (1, 16, 256, 1000)
GAMES = (1, 8, 64)
# The `wait` workload: the echo comes back after this many microseconds (a slow trainer).
DELAYS_US = (1000, 100000)
FOREVER = 10**9  # a count never reached: the time bound ends the workload
# The server sends messages in bursts of this many bytes, each asked for by the client: one
# round trip of pause per 4 MiB (under 2% of the time of the fastest row at 1 MiB).
DOWNLOAD_BURST = 4 << 20


@dataclass(frozen=True)
class Plan:
    name: str
    reps: int
    rtt_count: dict[int, int]  # timed round trips per size and repetition (at most)
    rtt_warmup: dict[int, int]
    rtt_seconds: float  # time bound per size and repetition
    tput_seconds: float  # one-way throughput: time per size and repetition
    conns_seconds: float  # lockstep rounds over N connections: time per N and repetition
    connect_count: int
    connect_seconds: float
    idle_connections: int
    e2e_seconds: float
    wait_seconds: float  # the `wait` workload: time per delay and repetition
    e2e_obs_bytes: int = 512
    e2e_action_bytes: int = 32
    e2e_warmup_steps: int = 50  # untimed steps before the timed ones (their CPU is counted)
    timeout: float = 300.0  # a worker that does not answer a command within this is killed
    slow_cell_seconds: float = 20.0  # a row's cell slower than this runs in the first repetition only


FULL = Plan(
    name="full",
    reps=3,
    rtt_count={64: 20000, 1024: 20000, 65536: 5000, 1 << 20: 1000},
    rtt_warmup={64: 500, 1024: 500, 65536: 100, 1 << 20: 10},
    rtt_seconds=2.0,
    tput_seconds=0.75,
    conns_seconds=1.0,
    connect_count=300,
    connect_seconds=1.5,
    idle_connections=1000,
    e2e_seconds=2.0,
    wait_seconds=4.0,
)

QUICK = Plan(
    name="quick (BENCH_QUICK=1)",
    reps=1,
    rtt_count={64: 2000, 1024: 2000, 65536: 500, 1 << 20: 100},
    rtt_warmup={64: 100, 1024: 100, 65536: 20, 1 << 20: 5},
    rtt_seconds=0.5,
    tput_seconds=0.25,
    conns_seconds=0.3,
    connect_count=50,
    connect_seconds=0.5,
    idle_connections=1000,
    e2e_seconds=0.5,
    wait_seconds=1.0,
)


@dataclass(frozen=True)
class Cell:
    """One workload at one parameter (a size, or a number of connections)."""

    workload: str  # rtt | upload | download | conns | connect | wait
    param: int = 0
    rows: tuple[str, ...] | None = None  # only these rows run it (None: every row)

    @property
    def key(self) -> str:
        return f"{self.workload}/{self.param}"

    def command(self, plan: Plan) -> str:
        p = self.param
        if self.workload == "rtt":
            return f"rtt {p} {plan.rtt_count[p]} {plan.rtt_warmup[p]} {plan.rtt_seconds}"
        if self.workload == "upload":
            return f"upload {p} {FOREVER} {plan.tput_seconds}"
        if self.workload == "download":
            return f"download {p} {max(1, DOWNLOAD_BURST // p)} {plan.tput_seconds}"
        if self.workload == "conns":
            return f"conns {p} {FOREVER} {plan.conns_seconds}"
        if self.workload == "wait":
            return f"wait 64 {p} {plan.wait_seconds}"
        if self.workload == "connect":
            return f"connect {plan.connect_count} {plan.connect_seconds}"
        raise ValueError(self.workload)


def cells() -> list[Cell]:
    return (
        [Cell("rtt", s) for s in SIZES]
        + [Cell("upload", s) for s in SIZES]
        + [Cell("download", s) for s in SIZES]
        + [Cell("conns", n) for n in CONNECTIONS]
        + [Cell("connect")]
        + [Cell("wait", d, C_HARNESS) for d in DELAYS_US]
    )
