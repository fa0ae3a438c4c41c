"""Runs every case of tests/interop/reconnect_test.c (the `reconnect` option and wsb_close_async)
against real Python ``websockets`` servers, with the shared and the static library. The
trainer of each case is a server of its own, which this driver kills (SIGKILL) and restarts on
the same port when the program asks ("CMD KILL", "CMD START" on its standard output)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "servers"))

from launch import Server  # noqa: E402

BUILD = Path(os.environ.get("WSB_BUILD_DIR", ROOT / "build"))
BINARIES = {"shared": BUILD / "tests" / "reconnect_test_shared", "static": BUILD / "tests" / "reconnect_test_static"}


def cases() -> list[str]:
    binary = BINARIES["shared"]
    if not binary.exists():
        raise RuntimeError(f"{binary} is missing: run the tests with `make test-c`")
    return subprocess.run([binary, "--list"], check=True, capture_output=True, text=True).stdout.split()


@pytest.fixture(scope="module")
def stable_servers():
    with Server("misbehave.py") as misbehave, Server("wsserver.py") as echo:
        yield {"WSB_MISBEHAVE_PORT": str(misbehave.port), "WSB_ECHO_PORT": str(echo.port)}


@pytest.mark.parametrize("link", sorted(BINARIES))
@pytest.mark.parametrize("case", cases())
def test_case(stable_servers, link: str, case: str) -> None:
    trainer = Server("misbehave.py")
    port = trainer.port
    env = dict(os.environ, **stable_servers, WSB_TRAINER_PORT=str(port))
    proc = subprocess.Popen(
        [BINARIES[link], case], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    out = []
    try:
        for line in proc.stdout:
            out.append(line)
            if line.strip() == "CMD KILL":
                trainer.proc.kill()
                trainer.proc.wait()
                trainer.stop()
            elif line.strip() == "CMD START":
                trainer = Server("misbehave.py", "--port", str(port))
            else:
                continue
            proc.stdin.write("done\n")
            proc.stdin.flush()
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        trainer.stop()
    err = proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == 0, f"{case} ({link}) failed:\n{''.join(out)}{err}"
    assert f"{case}: ok" in "".join(out)
