"""Running Windows programs under Wine for the tests (tests/fault/test_windows.py,
tests/dist): headless, in the prefix mk/windows.mk initialised, with a wineserver kept running
while the tests use it. mk/windows.mk passes WINEPREFIX, WSB_WINE and WSB_WINESERVER."""

from __future__ import annotations

import os
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

QUIET = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}


def setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run these tests through make (mk/windows.mk, mk/dist.mk)")
    return value


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
        subprocess.run([setting("WSB_WINE"), "cmd", "/c", "exit"], env=env, check=True, timeout=120, **QUIET)
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


def run_exe(wine: dict[str, str], exe: Path, args: list[str], env: dict[str, str], timeout: float = 120,
            case: str | None = None) -> str:
    """Runs `exe` under Wine and returns what it printed on stdout (stderr also carries Wine's
    own "err:" lines). Fails unless it exits 0, with both streams, the exit status and the
    wineservers running.

    `case`: the program is one of the test programs that print "CASE: running" before their case
    (tests/common/c/harness.h, start_case). A failed run without that line never reached the
    case: Wine failed to start it. That is run once more (with a warning naming what the failed
    start printed); a failure of the case itself never is."""
    if not exe.exists():
        raise RuntimeError(f"{exe} is missing: run these tests through make")
    argv = [setting("WSB_WINE"), str(exe), *args]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, env={**wine, **env}, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
        )

    def failure(proc: subprocess.CompletedProcess[str]) -> str:
        return (
            f"{' '.join(argv)} exited {proc.returncode} ({proc.returncode & 0xFFFFFFFF:#x}); "
            f"wineservers running now: {wineservers() or 'none'}\n"
            f"--- stdout:\n{proc.stdout}--- stderr:\n{proc.stderr}"
        )

    proc = run()
    if proc.returncode != 0 and case is not None and f"{case}: running" not in proc.stdout:
        warnings.warn(f"Wine did not start the program; running it again. The failed start: {failure(proc)}",
                      stacklevel=2)
        proc = run()
    if proc.returncode != 0:
        raise AssertionError(failure(proc))
    return proc.stdout
