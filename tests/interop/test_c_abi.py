"""Runs every case of tests/interop/abi_test.c against real Python ``websockets`` servers, once with
the shared library and once with the static one (both built by ``make test``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("WSB_BUILD_DIR", ROOT / "build"))
BINARIES = {"shared": BUILD / "tests" / "abi_test_shared", "static": BUILD / "tests" / "abi_test_static"}


def cases() -> list[str]:
    binary = BINARIES["shared"]
    if not binary.exists():
        raise RuntimeError(f"{binary} is missing: run the tests with `make test`")
    out = subprocess.run([binary, "--list"], check=True, capture_output=True, text=True).stdout
    return out.split()


@pytest.mark.parametrize("link", sorted(BINARIES))
@pytest.mark.parametrize("case", cases())
def test_case(servers, link: str, case: str) -> None:
    env = dict(os.environ, **servers)
    proc = subprocess.run(
        [BINARIES[link], case], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"{case} ({link}) failed:\n{proc.stdout}{proc.stderr}"
