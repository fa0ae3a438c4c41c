from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "servers"))

from launch import abi_test_servers  # noqa: E402


@pytest.fixture(scope="session")
def servers():
    """The servers of the C programs here, as the environment they read the ports from."""
    with abi_test_servers() as env:
        yield env
