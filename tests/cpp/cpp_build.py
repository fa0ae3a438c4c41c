"""Where `make test-cpp` puts what the C++ suites run (mk/cpp.mk)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CPP_BUILD = Path(os.environ.get("WSB_CPP_BUILD_DIR", ROOT / "build" / "cpp"))


def built(path: Path) -> Path:
    """`path`, which `make test-cpp` builds, or a failure that says so."""
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run these tests with `make test-cpp`")
    return path


def make(*args: str) -> subprocess.CompletedProcess:
    """`make ARGS` in the repository, as a make of its own (not a part of the `make test` that
    may be running this test); its output is in the result."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args],
                          capture_output=True, text=True, env=env, timeout=300)
