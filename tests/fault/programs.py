"""Where the fault suite's C programs and libraries are, and how to run one."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("WSB_BUILD_DIR", ROOT / "build")) / "reliability"
LIBS = {
    "debug": Path(os.environ.get("WSB_DEBUG_LIB", ROOT / "target" / "debug")) / "libwsbridge.so",
    "release": Path(os.environ.get("WSB_RELEASE_LIB", ROOT / "target" / "release")) / "libwsbridge.so",
}


def binary(name: str) -> Path:
    path = BUILD / name
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run the fault suite with `make test` (mk/reliability.mk)")
    return path


def run(argv: list[str], env: dict[str, str], timeout: float = 120) -> str:
    """Runs one C case; fails with everything it printed unless it exits 0."""
    proc = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(map(str, argv))} exited {proc.returncode}:\n{out}"
    print(out, end="")
    return out


def expect_rejection(argv: list[str], env: dict[str, str], rejected: bool) -> None:
    """Runs a canary (tests/fault/canary.c) under a checker: it must fail exactly when `rejected`."""
    proc = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert (proc.returncode != 0) == rejected, f"{argv} exited {proc.returncode}:\n{proc.stderr}"
