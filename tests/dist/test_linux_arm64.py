"""Linux aarch64: the C ABI suite (tests/interop/abi_test.c) cross-built with Debian's aarch64 gcc
against the distributed, stripped library (build/dist/lib/linux-arm64, glibc 2.17), run under
qemu-user (qemu-aarch64 with Debian's aarch64 libc) against the Python servers on 127.0.0.1.

Two cases do not run under qemu: "threads_stop" and "shutdown" count /proc/self/task right
after the last wsb_close or wsb_shutdown, and qemu-user wakes the joining thread (the emulated
CLONE_CHILD_CLEARTID) before the host thread of the exited one has left /proc/self/task; they
failed there now and then (threads_stop 4 times in 6 runs), always with the count right again
when printed ("0 threads left"). Natively they pass (tests/interop)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "servers"))
from launch import abi_test_servers  # noqa: E402

PROGRAM = Path(os.environ.get("WSB_ARM64_ABI_TEST", ROOT / "build" / "dist" / "arm64" / "abi_test"))
SYSROOT = "/usr/aarch64-linux-gnu"


def qemu(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    if not PROGRAM.exists():
        raise RuntimeError(f"{PROGRAM} is missing: run these tests with `make test-dist` (mk/dist.mk)")
    return subprocess.run(["qemu-aarch64", "-L", SYSROOT, str(PROGRAM), *args], env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=300)


NOT_UNDER_QEMU = {"threads_stop", "shutdown"}


def cases() -> list[str]:
    source = (ROOT / "tests/interop/abi_test.c").read_text()
    table = source.split(" cases[] = {", 1)[1].split("};", 1)[0]
    return [line.split('"')[1] for line in table.splitlines() if line.strip().startswith('{"')]


def test_program_is_aarch64_and_lists_every_case():
    header = subprocess.run(["readelf", "-h", str(PROGRAM)], capture_output=True, text=True, check=True).stdout
    assert "AArch64" in header
    assert qemu("--list").stdout.split() == cases()


@pytest.fixture(scope="module")
def servers():
    with abi_test_servers() as env:
        yield env


@pytest.mark.parametrize("case", [c for c in cases() if c not in NOT_UNDER_QEMU])
def test_abi_case_under_qemu(servers, case):
    proc = qemu(case, env=servers)
    assert proc.returncode == 0 and f"{case}: ok" in proc.stdout, f"{case}:\n{proc.stdout}{proc.stderr}"
