"""Fixtures of the network tests: the test PKI, the trainers, and `netclient`, the C program
(tests/network/netclient.c, built by `make test`) that drives wsbridge as a game would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "servers"))
sys.path.insert(0, str(HERE))

import pki as pki_module  # noqa: E402
from daemons import TinyProxy, free_port  # noqa: E402
from launch import Server  # noqa: E402

BUILD = Path(os.environ.get("WSB_BUILD_DIR", ROOT / "build"))
NETCLIENT = BUILD / "tests" / "network" / "netclient"
TRAINER = str(HERE / "trainer.py")
STALL = str(HERE / "stall.py")

# Every variable that can make wsbridge use a proxy: the tests start from none of them.
PROXY_VARIABLES = [
    name
    for base in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
    for name in (base, base.upper())
] + ["REQUEST_METHOD"]


@dataclass
class Run:
    """What one netclient run reported."""

    fields: dict[str, str]
    output: str

    @property
    def result(self) -> str:
        return self.fields.get("result", "?")

    @property
    def error(self) -> str:
        return self.fields.get("error", "")

    @property
    def greeting(self) -> dict:
        return json.loads(self.fields["greeting"])

    def ok(self) -> "Run":
        assert self.fields.get("step") == "done" and self.result == "WSB_OK", self.output
        return self

    def failed(self, result: str, *facts: str) -> "Run":
        """The connect failed with `result`, and the message states every one of `facts`."""
        assert self.result == result, self.output
        for fact in facts:
            assert fact in self.error, f"{fact!r} is not in the message:\n{self.error}"
        return self


Client = Callable[..., Run]


@pytest.fixture(scope="session")
def netclient() -> Client:
    if not NETCLIENT.exists():
        raise RuntimeError(f"{NETCLIENT} is missing: run the tests with `make test`")

    def run(
        url: str,
        options: dict | None = None,
        mode: str = "open",
        n: int | None = None,
        env: dict[str, str] | None = None,
    ) -> Run:
        clean = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
        args = [str(NETCLIENT), mode, url, json.dumps(options or {})]
        if n is not None:
            args.append(str(n))
        proc = subprocess.run(
            args, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=60
        )
        output = f"$ {' '.join(args)}\n{proc.stdout}{proc.stderr}"
        assert proc.returncode == 0, output
        fields = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
        return Run(fields, output)

    return run


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> pki_module.Pki:
    return pki_module.make(tmp_path_factory.mktemp("pki"))


def ws(server: Server, path: str = "/env/0") -> str:
    return server.url(path)


def wss(server: Server, path: str = "/env/0") -> str:
    return f"wss://127.0.0.1:{server.port}{path}"


def trainer(name: str, cert: pki_module.Issued | None = None, *extra: str) -> Server:
    args = ["--name", name, *extra]
    if cert:
        args += ["--cert", str(cert.cert), "--key", str(cert.key)]
    return Server(TRAINER, *args)


@pytest.fixture(scope="session")
def plain_trainer() -> Iterator[Server]:
    with trainer("plain") as s:
        yield s


@pytest.fixture(scope="session")
def tls_trainer(pki: pki_module.Pki) -> Iterator[Server]:
    with trainer("tls", pki.local) as s:
        yield s


@pytest.fixture(scope="session")
def stall() -> Iterator[Server]:
    with Server(STALL) as s:
        yield s


@pytest.fixture(scope="session")
def open_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyProxy]:
    proxy = TinyProxy(tmp_path_factory.mktemp("open-proxy"))
    yield proxy
    proxy.stop()


def dead_port() -> int:
    """A port on 127.0.0.1 that nobody listens on."""
    return free_port()
