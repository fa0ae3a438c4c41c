"""nginx and tinyproxy for the tests: configured in a temporary directory, on 127.0.0.1, started
under guard.py (ready when they say so, stopped when the tests end or die), never slept on.

- nginx takes over a listening socket this process opened (nginx's ``NGINX`` environment
  variable, the mechanism of its binary upgrade): the port is known before it starts and nobody
  else can take it; ready once it logs "start worker processes".
- tinyproxy cannot take over a socket: it gets a free port, and is ready once it logs
  "Accepting connections" (tried again on another port if that one was taken meanwhile). It
  connects out from 127.0.0.2 (``Bind``), so a server sees whether a client came through it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

GUARD = Path(__file__).resolve().parent / "guard.py"
PROXY_SOURCE_IP = "127.0.0.2"


def executable(name: str, package: str) -> str:
    path = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if path is None:
        raise RuntimeError(
            f"{name} is not installed: `make test` installs the Debian package {package}"
        )
    return path


class Daemon:
    def __init__(
        self,
        command: list[str],
        ready: str | None,
        pass_fds: tuple[int, ...] = (),
        env: dict[str, str] | None = None,
        log: Path | None = None,
    ) -> None:
        guard = [sys.executable, str(GUARD)]
        if ready:
            guard += ["--ready", ready]
        for fd in pass_fds:
            guard += ["--pass-fd", str(fd)]
        self.command = command
        log_file = None if log is None else log.open("a")
        self.proc = subprocess.Popen(
            [*guard, "--", *command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            pass_fds=pass_fds,
            env=env,
            stderr=log_file,
        )
        if log_file is not None:
            log_file.close()  # the child has its own copy
        assert self.proc.stdout is not None
        self.status = self.proc.stdout.readline().strip()
        if self.status != "READY":
            self.stop()

    @property
    def ready(self) -> bool:
        return self.status == "READY"

    def stop(self) -> None:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def nginx(config: str, directory: Path, listener: socket.socket, log: Path | None = None) -> Daemon:
    """Runs nginx with `config` (a whole nginx.conf) on the listening socket `listener`; its
    output goes to this process's standard error, or is appended to `log`."""
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "nginx.conf"
    conf.write_text(config)
    binary = executable("nginx", "nginx")
    check = subprocess.run(
        [binary, "-t", "-q", "-p", str(directory), "-e", "stderr", "-c", str(conf)],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        raise RuntimeError(f"nginx rejects {conf}:\n{check.stderr}")
    fd = listener.fileno()
    os.set_inheritable(fd, True)
    daemon = Daemon(
        [binary, "-p", str(directory), "-e", "stderr", "-c", str(conf)],
        ready="start worker processes",
        pass_fds=(fd,),
        env=dict(os.environ, NGINX=f"{fd};"),
        log=log,
    )
    if not daemon.ready:
        raise RuntimeError(f"nginx did not start: {daemon.status}")
    return daemon


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TinyProxy:
    """tinyproxy on 127.0.0.1; `auth` = (user, password) requires Basic authentication;
    `connect_ports` restricts the ports CONNECT may reach (all ports when empty)."""

    def __init__(self, directory: Path, auth: tuple[str, str] | None = None,
                 connect_ports: tuple[int, ...] = ()) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        binary = executable("tinyproxy", "tinyproxy-bin")
        for _attempt in range(3):
            self.port = free_port()
            lines = [
                f"Port {self.port}",
                "Listen 127.0.0.1",
                f"Bind {PROXY_SOURCE_IP}",
                "Timeout 60",
                "MaxClients 64",
                "LogLevel Info",
            ]
            if auth:
                lines.append(f"BasicAuth {auth[0]} {auth[1]}")
            lines += [f"ConnectPort {p}" for p in connect_ports]
            conf = directory / "tinyproxy.conf"
            conf.write_text("\n".join(lines) + "\n")
            self.daemon = Daemon([binary, "-d", "-c", str(conf)], ready="Accepting connections")
            if self.daemon.ready:
                return
            if not re.search(r"listen|bind|Address already in use", self.daemon.status, re.I):
                break
        raise RuntimeError(f"tinyproxy did not start: {self.daemon.status}")

    def url(self, credentials: str = "") -> str:
        return f"http://{credentials}{'@' if credentials else ''}127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.daemon.stop()
