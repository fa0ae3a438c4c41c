"""The rows of the benchmark: every client a user would pick, and the raw TCP limit.

Each row is a worker program speaking the protocol of bench/README.md. A row whose program is
missing is reported as not run, with what it needs (never silently dropped).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

RAW = "raw TCP (C)"
RAW_SPIN = "raw TCP, spinning (C)"
WSB_C = "wsbridge C ABI"
WSB_C_OFF = "wsbridge C ABI, spin off"
WSB_CS = "wsbridge C# (Mono)"
LWS = "libwebsockets (C)"
CWS = "Mono ClientWebSocket"
PY_WS = "Python websockets (sync)"
PY_WSC = "websocket-client (Python)"

#: The spin budget of the spinning raw TCP row: wsbridge's default (`spin_budget_us`).
SPIN_US = 50
#: The options of the "spin off" row, which is wsbridge C ABI with the spin disabled.
SPIN_OFF = '{"spin_budget_us": 0}'

#: Rows that are wsbridge; the others are its baseline and its competition.
WSBRIDGE = (WSB_C, WSB_CS)
#: Rows of the C harness, which also run the `wait` workload (a slow trainer).
C_HARNESS = (RAW, RAW_SPIN, WSB_C, WSB_C_OFF)
PEERS = (LWS, CWS, PY_WS, PY_WSC)


@dataclass
class Row:
    name: str
    argv: list[str]
    needs: Path  # the file whose absence means the row cannot run
    missing: str  # what to say when it is absent
    env: dict[str, str] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.needs.exists()


def rows(build: Path, release_lib: Path, python: Path, root: Path) -> list[Row]:
    """Every row, in the order tables show them."""
    py = root / "bench" / "clients" / "py"
    mono_env = {"LD_LIBRARY_PATH": f"{release_lib}:{os.environ.get('LD_LIBRARY_PATH', '')}"}
    return [
        Row(RAW, [str(build / "raw_tcp")], build / "raw_tcp", "build/bench/raw_tcp was not built"),
        Row(RAW_SPIN, [str(build / "raw_tcp")], build / "raw_tcp", "build/bench/raw_tcp was not built",
            {"RAW_SPIN_US": str(SPIN_US)}),
        Row(WSB_C, [str(build / "wsb_c")], build / "wsb_c", "build/bench/wsb_c was not built"),
        Row(WSB_C_OFF, [str(build / "wsb_c")], build / "wsb_c", "build/bench/wsb_c was not built",
            {"WSB_BENCH_OPTIONS": SPIN_OFF}),
        Row(
            WSB_CS,
            ["mono", str(build / "cs" / "wsb_cs.exe")],
            build / "cs" / "wsb_cs.exe",
            "needs the Unity binding's C# sources in bindings/unity/Runtime/ (issue 4); "
            "mk/bench.mk compiles them with bench/clients/cs/WsbridgeRow.cs",
            mono_env,
        ),
        Row(LWS, [str(build / "lws_c")], build / "lws_c", "build/bench/lws_c was not built (libwebsockets-dev)"),
        Row(CWS, ["mono", str(build / "cs" / "cws.exe")], build / "cs" / "cws.exe", "build/bench/cs/cws.exe was not built (Mono)"),
        Row(PY_WS, [str(python), str(py / "websockets_sync.py")], python, "the bench venv is missing"),
        Row(PY_WSC, [str(python), str(py / "websocket_client.py")], python, "the bench venv is missing"),
    ]
