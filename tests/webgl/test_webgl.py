"""The Unity package's WebGL path: bindings/unity/Plugins/WebGL/wsbridge.jslib in headless Chromium
(tests/webgl/run.cjs, harness.js standing in for Unity's Emscripten glue) against real Python
``websockets`` servers on 127.0.0.1, and the agreement between the .jslib and its C# caller
(Runtime/NativeMethods.WebGL.cs). `make test-webgl` installs Chromium and playwright-core and
compiles the Runtime with UNITY_WEBGL under Mono first."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from launch import Server

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
JSLIB = ROOT / "bindings" / "unity" / "Plugins" / "WebGL" / "wsbridge.jslib"
SHIM = ROOT / "bindings" / "unity" / "Runtime" / "NativeMethods.WebGL.cs"
NODE_MODULES = os.environ.get("WSB_NODE_MODULES", str(ROOT / "build" / "webgl" / "node_modules"))
CHROMIUM = os.environ.get("WSB_CHROMIUM", "/usr/bin/chromium")


def node(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    if not shutil.which("node"):
        raise RuntimeError("node is not installed: run `make test-webgl` (installs nodejs)")
    env = dict(os.environ, WSB_NODE_MODULES=NODE_MODULES, WSB_CHROMIUM=CHROMIUM)
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env.pop(name, None)
    return subprocess.run(["node", str(HERE / "run.cjs"), *args], capture_output=True, text=True, timeout=timeout, env=env)


def case_names() -> list[str]:
    listing = node("--list", timeout=60)
    if listing.returncode != 0:
        raise RuntimeError(f"run.cjs --list failed:\n{listing.stdout}{listing.stderr}")
    return listing.stdout.split()


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def outcomes() -> dict[str, str]:
    """Every case in one browser (a fresh page each): {case: "passed" | "FAILED: ..."} and the log."""
    for needed, how in ((CHROMIUM, "the Debian package chromium"), (Path(NODE_MODULES) / "playwright-core", "npm playwright-core")):
        if not Path(needed).exists():
            raise RuntimeError(f"{needed} is missing: run `make test-webgl` (installs {how})")
    names = case_names()
    with Server("wsserver.py") as echo, Server("misbehave.py") as misbehave:
        config = {"echo": echo.url("").rstrip("/"), "misbehave": misbehave.url("").rstrip("/"), "deadPort": dead_port()}
        proc = node(json.dumps(config), *names)
    results = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"^(\w+) (passed|FAILED: .*)$", line)
        if m:
            results[m.group(1)] = m.group(2)
    results["__log__"] = proc.stdout + proc.stderr
    return results


@pytest.mark.parametrize("case", case_names())
def test_jslib_in_chromium(outcomes: dict[str, str], case: str) -> None:
    assert outcomes.get(case) == "passed", f"{case}: {outcomes.get(case)}\n{outcomes['__log__']}"


def test_jslib_and_csharp_agree_on_the_private_numbers() -> None:
    """NativeMethods.WebGL.cs maps wsbridge.jslib's result numbers and kinds: both lists must agree."""
    js = JSLIB.read_text()
    cs = SHIM.read_text()
    block = re.search(r"\$WSB: \{(.*?)nextId", js, re.S).group(1)
    js_values = {k: int(v) for k, v in re.findall(r"([A-Z_0-9]+): (\d+)", block)}
    cs_values = {k: int(v) for k, v in re.findall(r"\bJs([A-Za-z0-9]+) = (\d+)", cs)}
    snake = {re.sub(r"(?<!^)([A-Z])", r"_\1", k).upper(): v for k, v in cs_values.items()}
    assert snake == js_values


def test_every_jslib_function_is_declared_in_csharp_and_back() -> None:
    js = set(re.findall(r"^    (WsbJs_\w+): function", JSLIB.read_text(), re.M))
    cs = set(re.findall(r"static extern \w+ (WsbJs_\w+)\(", SHIM.read_text()))
    assert js and js == cs
    deps = set(re.findall(r"'(WsbJs_\w+)'", JSLIB.read_text()))
    assert deps == js, "every function lists $WSB in its __deps"
