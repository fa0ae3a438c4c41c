"""The C ABI suite (tests/interop/abi_test.c) and the fault cases (tests/fault/fault_test) on Windows: the
programs cross-built with mingw against wsbridge.dll (mk/windows.mk), run under Wine against
the same Python servers as on Linux, so the Windows code paths (Windows sockets, the
condition-variable waits used off Unix) run on every `make test`.

One fault case does not run: "frozen" stops the server process with SIGSTOP from the game's
side, which a Windows program cannot do to a Linux process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cases import CASES, FORBIDDEN_CLOSE_CODES, argvs, ids

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "windows"))
from wine import run_exe as run_wine  # noqa: E402
from wine import setting, wine_session  # noqa: E402

WINDOWS_ONLY_SKIPPED = {"frozen": "stops the server with kill(SIGSTOP): no such call on Windows"}
FAULT_CASES = [c for c in CASES if c[1][0] not in WINDOWS_ONLY_SKIPPED]


@pytest.fixture(scope="module")
def wine() -> Iterator[dict[str, str]]:
    with wine_session() as env:
        yield env


def run_exe(wine: dict[str, str], name: str, args: list[str], env: dict[str, str], timeout: float = 120) -> str:
    # args[0] is the case (or --list): the programs announce it before running it.
    case = args[0] if args and args[0] != "--list" else None
    return run_wine(wine, Path(setting("WSB_WINDOWS_TESTS")) / name, args, env, timeout, case=case)


def abi_cases() -> list[str]:
    # The same list as the Linux program: the source is shared.
    source = (Path(__file__).resolve().parents[2] / "tests/interop/abi_test.c").read_text()
    table = source.split(" cases[] = {", 1)[1].split("};", 1)[0]
    return [line.split('"')[1] for line in table.splitlines() if line.strip().startswith('{"')]


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
