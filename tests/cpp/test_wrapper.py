"""Runs every case of tests/cpp/wrapper_test.cpp (the C++ wrapper, built with -fno-exceptions
-fno-rtti) against a real Python ``websockets`` server."""

from __future__ import annotations

import os
import subprocess

import pytest
from cpp_build import CPP_BUILD, built
from launch import Server

BINARY = CPP_BUILD / "tests" / "wrapper_test"


def cases() -> list[str]:
    out = subprocess.run([built(BINARY), "--list"], check=True, capture_output=True, text=True).stdout
    return out.split()


@pytest.fixture(scope="module")
def ports():
    with Server("wsserver.py", "--max-size", str(64 * 2**20)) as server, Server("misbehave.py") as misbehave:
        yield {"WSB_ECHO_PORT": str(server.port), "WSB_MISBEHAVE_PORT": str(misbehave.port)}


@pytest.mark.parametrize("case", cases())
def test_case(ports: dict[str, str], case: str) -> None:
    env = dict(os.environ, **ports)
    proc = subprocess.run([BINARY, case], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{case} failed:\n{proc.stdout}{proc.stderr}"
