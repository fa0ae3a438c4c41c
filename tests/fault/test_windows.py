"""The C ABI suite (tests/interop/abi_test.c) and the fault cases (tests/fault/fault_test) on Windows: the
programs cross-built with mingw against wsbridge.dll (mk/windows.mk), run under Wine against
the same Python servers as on Linux, so the Windows code paths (Windows sockets, the
condition-variable waits used off Unix) run on every `make test`.

One fault case does not run: "frozen" stops the server process with SIGSTOP from the game's
side, which a Windows program cannot do to a Linux process."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cases import CASES, FORBIDDEN_CLOSE_CODES, argvs, ids

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "windows"))
from wine import run_exe as run_wine  # noqa: E402
from wine import setting, wine_command, wine_session  # noqa: E402

ADDR_NO_RANDOMIZE = 0x0040000  # <linux/personality.h>

WINDOWS_ONLY_SKIPPED = {"frozen": "stops the server with kill(SIGSTOP): no such call on Windows"}
FAULT_CASES = [c for c in CASES if c[1][0] not in WINDOWS_ONLY_SKIPPED]


@pytest.fixture(scope="module")
def wine() -> Iterator[dict[str, str]]:
    with wine_session() as env:
        yield env


def run_exe(wine: dict[str, str], name: str, args: list[str], env: dict[str, str], timeout: float = 120) -> str:
    return run_wine(wine, Path(setting("WSB_WINDOWS_TESTS")) / name, args, env, timeout)


def abi_cases() -> list[str]:
    # The same list as the Linux program: the source is shared.
    source = (Path(__file__).resolve().parents[2] / "tests/interop/abi_test.c").read_text()
    table = source.split(" cases[] = {", 1)[1].split("};", 1)[0]
    return [line.split('"')[1] for line in table.splitlines() if line.strip().startswith('{"')]


def test_wine_runs_programs_without_address_randomisation(wine):
    """A Windows program started as these tests start them runs without Linux's address-space
    randomisation, and the heap of Wine's loader starts where the loader ends (mk/windows.mk:
    with randomisation that heap covered 0x7ffe0000, KUSER_SHARED_DATA, in about 1 run in 4,300,
    and Wine could not start the program). The process is `start.exe`, waiting for the `cmd` it
    started: its first line of output shows Wine runs it."""
    proc = subprocess.Popen([*wine_command(), "cmd"], env=wine, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    watchdog = threading.Timer(60, proc.kill)  # a cmd that never prints ends the readline
    watchdog.start()
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        assert first.startswith("Microsoft Windows"), f"cmd under Wine printed {first!r}, exit {proc.poll()}"
        personality = int(Path(f"/proc/{proc.pid}/personality").read_text(), 16)
        maps = Path(f"/proc/{proc.pid}/maps").read_text().splitlines()
    finally:
        proc.communicate("exit\n", timeout=60)
        watchdog.cancel()
    assert personality & ADDR_NO_RANDOMIZE, f"personality {personality:#x}: {' '.join(wine_command())}"
    loader_end = max(int(line.split()[0].split("-")[1], 16) for line in maps if line.endswith("/wine64"))
    heap = [int(line.split("-")[0], 16) for line in maps if line.endswith("[heap]")]
    assert heap == [loader_end], f"heap at {[hex(h) for h in heap]}, the loader ends at {loader_end:#x}"


def test_abi_case_list_matches_the_program(wine):
    assert run_exe(wine, "abi_test.exe", ["--list"], {}).split() == abi_cases()


@pytest.mark.parametrize("case", abi_cases())
def test_abi_case(wine, abi_servers, case):
    assert f"{case}: ok" in run_exe(wine, "abi_test.exe", [case], abi_servers)


def test_static_library_links_and_runs(wine, abi_servers):
    """libwsbridge.a (for mingw users), linked with the native libraries mk/windows.mk lists."""
    for case in ("version", "round_trips"):
        run_exe(wine, "abi_test_static.exe", [case], abi_servers)


@pytest.mark.parametrize("args", argvs(FAULT_CASES), ids=ids(FAULT_CASES))
def test_fault(wine, fault_env, args):
    run_exe(wine, "fault_test.exe", args, fault_env, timeout=300)


@pytest.mark.parametrize("args", argvs(FORBIDDEN_CLOSE_CODES), ids=ids(FORBIDDEN_CLOSE_CODES))
def test_forbidden_close_code(wine, fault_env, args):
    run_exe(wine, "fault_test.exe", args, fault_env)
