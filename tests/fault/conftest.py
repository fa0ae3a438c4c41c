"""Fixtures of the fault suite: the misbehaving servers the C programs talk to.

The C programs are built by `make test` (mk/reliability.mk) into $WSB_BUILD_DIR/reliability;
programs.py finds and runs them.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "servers"))

from cases import OWN_SERVER_CASES  # noqa: E402
from launch import Server, abi_test_servers  # noqa: E402


@pytest.fixture(scope="session")
def servers():
    """The servers every case may use, by environment variable."""
    with Server("rawws.py") as raw, Server("misbehave.py") as misbehave, Server(
        "misbehave.py", "--ping-interval", "0.5", "--ping-timeout", "1"
    ) as keepalive:
        yield {
            "WSB_RAW_PORT": str(raw.port),
            "WSB_MISBEHAVE_PORT": str(misbehave.port),
            "WSB_KEEPALIVE_PORT": str(keepalive.port),
        }


@pytest.fixture
def fault_env(request, servers):
    """The environment for a parametrized fault case (`args`): a server of its own if needed."""
    args = request.node.callspec.params["args"]
    if args[0] in OWN_SERVER_CASES:
        return request.getfixturevalue("own_server")
    return servers


@pytest.fixture
def own_server(servers):
    """A misbehave.py for one case alone (the case kills or freezes it)."""
    with Server("misbehave.py", "--ping-interval", "0") as own:
        yield {**servers, "WSB_OWN_PORT": str(own.port), "WSB_OWN_PID": str(own.proc.pid)}
        if own.proc.poll() is None:
            os.kill(own.proc.pid, signal.SIGCONT)  # in case the case stopped it and failed


@pytest.fixture(scope="session")
def abi_servers():
    """The servers tests/interop/abi_test.c expects (as tests/interop/test_c_abi.py starts them)."""
    with abi_test_servers() as env:
        yield env
