"""Running Windows programs under Wine for the tests (tests/fault/test_windows.py,
tests/dist): headless, in the prefix mk/windows.mk initialised, with a wineserver kept running
while the tests use it. mk/windows.mk passes WINEPREFIX, WSB_WINE (the command that runs a Windows
program: wine64 under `setarch --addr-no-randomize`, mk/windows.mk says why) and WSB_WINESERVER."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

QUIET = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}


def setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run these tests through make (mk/windows.mk, mk/dist.mk)")
    return value


def wine_command() -> list[str]:
    """The command line that runs a Windows program, the program and its arguments to follow."""
    return shlex.split(setting("WSB_WINE"))


@contextmanager
def wine_session() -> Iterator[dict[str, str]]:
    """The environment for Wine, with a wineserver started here and stopped at the end. Wine's
    own services start on the first run and inherit its output: a first run with no output
    pipes lets them start detached from ours (else reading a program's output never ends)."""
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    # Wine's own errors ("err:" lines, on stderr) stay on: a program that fails under Wine shows
    # why even when it printed nothing itself. Its "fixme:" notes are noise.
    env.update(WINEDEBUG="fixme-all", WINEDLLOVERRIDES="mscoree,mshtml=", WINEPREFIX=setting("WINEPREFIX"))
    # Fails when a wineserver already serves this prefix (another test run): then use that one
    # and leave it running.
    started = subprocess.run([setting("WSB_WINESERVER"), "-p"], env=env, **QUIET).returncode == 0
    try:
        subprocess.run([*wine_command(), "cmd", "/c", "exit"], env=env, check=True, timeout=120, **QUIET)
        yield env
    finally:
        if started:
            subprocess.run([setting("WSB_WINESERVER"), "-k"], env=env, **QUIET)


def wineservers() -> list[str]:
    """The process ids of the wineservers running on this machine (for failure messages)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().startswith("wineserver"):
                found.append(entry.name)
        except OSError:
            continue
    return found


def run_exe(wine: dict[str, str], exe: Path, args: list[str], env: dict[str, str], timeout: float = 120) -> str:
    """Runs `exe` under Wine and returns what it printed on stdout (stderr also carries Wine's
    own "err:" lines). Fails unless it exits 0, with both streams, the exit status and the
    wineservers running. A failure is never retried: Wine starts every program (the one way it
    failed to, a heap over KUSER_SHARED_DATA, is gone with the randomisation: mk/windows.mk)."""
    if not exe.exists():
        raise RuntimeError(f"{exe} is missing: run these tests through make")
    argv = [*wine_command(), str(exe), *args]
    proc = subprocess.run(
        argv, env={**wine, **env}, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} exited {proc.returncode} ({proc.returncode & 0xFFFFFFFF:#x}); "
            f"wineservers running now: {wineservers() or 'none'}\n"
            f"--- stdout:\n{proc.stdout}--- stderr:\n{proc.stderr}"
        )
    return proc.stdout
