"""Runs every case of the C# test program (tests/csharp/*.cs, compiled with Mono's mcs against
the package's Runtime/ sources by `make test`) under Mono, against the built library and a real
Python ``websockets`` server, one process per case."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pki  # the throw-away test CA of the TLS tests
import pytest
from launch import Server

ROOT = Path(__file__).resolve().parents[2]

BUILD = Path(os.environ.get("WSB_BUILD_DIR", ROOT / "build")) / "csharp"
TESTS = BUILD / "WsbridgeTests.exe"


def mono(*args: str, **kwargs) -> subprocess.CompletedProcess:
    if not shutil.which("mono"):
        raise RuntimeError("mono is not installed: run the tests with `make test` (installs mono-runtime)")
    return subprocess.run(["mono", "--debug", *args], capture_output=True, text=True, timeout=300, **kwargs)


def cases() -> list[str]:
    if not TESTS.exists():
        raise RuntimeError(f"{TESTS} is missing: run the tests with `make test`")
    listing = mono(str(TESTS), "--list")
    if listing.returncode != 0:
        raise RuntimeError(f"{TESTS} --list failed:\n{listing.stdout}{listing.stderr}")
    return listing.stdout.split()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory):
    certs = pki.make(tmp_path_factory.mktemp("pki"))
    tls_args = ["--name", "unity", "--cert", str(certs.local.cert), "--key", str(certs.local.key)]
    with Server("wsserver.py", "--max-size", str(64 * 2**20)) as echo, Server(
        str(ROOT / "tests" / "network" / "trainer.py"), *tls_args
    ) as tls, Server("misbehave.py") as misbehave:
        yield {
            "WSB_ECHO_PORT": str(echo.port),
            "WSB_MISBEHAVE_PORT": str(misbehave.port),
            "WSB_TLS_PORT": str(tls.port),
            "WSB_TLS_CA": str(certs.ca),
            "WSB_OTHER_CA": str(certs.other_ca),
        }


@pytest.mark.parametrize("case", cases())
def test_case(servers: dict[str, str], case: str) -> None:
    env = dict(os.environ, **servers)
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env.pop(name, None)  # the cases talk to 127.0.0.1 directly
    proc = mono(str(TESTS), case, env=env)
    assert proc.returncode == 0, f"{case} failed:\n{proc.stdout}{proc.stderr}"


def test_missing_native_library_is_explained(tmp_path: Path) -> None:
    """The program and the package assembly alone, without libwsbridge.so beside them."""
    for name in ("WsbridgeTests.exe", "Wsbridge.dll"):
        shutil.copy(BUILD / name, tmp_path / name)
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "MONO_PATH")}
    proc = mono(str(tmp_path / "WsbridgeTests.exe"), "NativeLibrary.MissingLibraryIsExplained", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
