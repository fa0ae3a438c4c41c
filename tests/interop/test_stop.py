"""The background-thread guarantee: every case of tests/interop/stop_test.c with the library linked
shared, static, and dlopen()ed, each case WSB_STOP_ROUNDS times in a row (default 10; `make
test-stop STOP_ROUNDS=100` for more). Built by `make test`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("WSB_BUILD_DIR", ROOT / "build"))
LIBRARY = Path(os.environ.get("WSB_DEBUG_LIB", ROOT / "target" / "debug")) / "libwsbridge.so"
ROUNDS = int(os.environ.get("WSB_STOP_ROUNDS", "10"))
LINKS = {
    "shared": [BUILD / "tests" / "stop_test_shared"],
    "static": [BUILD / "tests" / "stop_test_static"],
    "dlopen": [BUILD / "tests" / "stop_test_dlopen"],
}


def cases() -> list[str]:
    binary = LINKS["shared"][0]
    if not binary.exists():
        raise RuntimeError(f"{binary} is missing: run the tests with `make test`")
    return subprocess.run([binary, "--list"], check=True, capture_output=True, text=True).stdout.split()


@pytest.mark.parametrize("link", sorted(LINKS))
@pytest.mark.parametrize("case", cases())
def test_stop(servers, link: str, case: str) -> None:
    argv = [*LINKS[link], case, str(ROUNDS)] + ([str(LIBRARY)] if link == "dlopen" else [])
    proc = subprocess.run(argv, env=dict(os.environ, **servers), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{case} ({link}) failed:\n{proc.stdout}{proc.stderr}"
    assert f"{case}: {ROUNDS} rounds" in proc.stdout, proc.stdout
