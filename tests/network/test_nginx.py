"""nginx as the TLS-terminating reverse proxy of docs/deploy.md, in front of two trainers.

The nginx configuration is read from docs/deploy.md (its first ```nginx block) and run as it is,
with only the deployment-specific values swapped for the test's: the port, the certificate
files, the trainers' ports, the log file. Each of those must appear in the document exactly once,
so the document cannot drift from what is tested."""

from __future__ import annotations

import ast
import re
import socket
from pathlib import Path

import pytest
from conftest import ROOT, Client, dead_port, trainer
from daemons import PROXY_SOURCE_IP, nginx

DOC = ROOT / "docs" / "deploy.md"
TOKEN_A, TOKEN_B = "team-a-token", "team-b-token"

# The test-only frame around the documented block: what /etc/nginx/nginx.conf provides on a
# server, made to run unprivileged in a temporary directory.
MAIN = """\
daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log stderr notice;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    access_log off;
{block}
}}
"""


def documented_block(language: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.S)
    assert blocks, f"no ```{language} block in {DOC}"
    return blocks[0]


def nginx_config(directory: Path, port: int, a_port: int, b_port: int, pki) -> str:
    block = documented_block("nginx")
    for documented, tested in [
        ("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
        ("127.0.0.1:8001", f"127.0.0.1:{a_port}"),
        ("127.0.0.1:8002", f"127.0.0.1:{b_port}"),
        ("/etc/ssl/trainers/fullchain.pem", str(pki.public.cert)),
        ("/etc/ssl/trainers/privkey.pem", str(pki.public.key)),
        ("/var/log/nginx/trainers.access.log", str(directory / "access.log")),
    ]:
        assert block.count(documented) == 1, f"docs/deploy.md's nginx block must contain {documented!r} once"
        block = block.replace(documented, tested)
    return MAIN.format(dir=directory, block=block)


class Endpoint:
    """nginx running the documented configuration on a port of 127.0.0.1."""

    def __init__(self, directory: Path, a_port: int, b_port: int, pki) -> None:
        self.directory = directory
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(128)
            self.port = listener.getsockname()[1]
            config = nginx_config(directory, self.port, a_port, b_port, pki)
            self.daemon = nginx(config, directory, listener)

    def url(self, path: str) -> str:
        return f"wss://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.daemon.stop()


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory, pki):
    with trainer("a", None, "--token", TOKEN_A) as a, trainer("b", None, "--token", TOKEN_B) as b:
        nginx_ = Endpoint(tmp_path_factory.mktemp("nginx"), a.port, b.port, pki)
        yield nginx_
        nginx_.stop()


@pytest.fixture(scope="module")
def options(pki) -> dict:
    # The certificate is issued to trainers.example.com by the test CA; the test reaches the
    # endpoint by IP address.
    return {"tls": {"ca_file": str(pki.ca), "server_name": "trainers.example.com"}}


def test_routes_by_path_prefix_with_query_and_header_tokens(netclient: Client, endpoint, options) -> None:
    a = netclient(endpoint.url(f"/a/env/3?token={TOKEN_A}"), options).ok().greeting
    assert (a["name"], a["path"], a["query"]) == ("a", "/env/3", f"token={TOKEN_A}")
    assert a["headers"]["x-forwarded-for"] == "127.0.0.1"
    headers = {**options, "headers": {"Authorization": f"Bearer {TOKEN_B}"}}
    b = netclient(endpoint.url("/b/env/4"), headers).ok().greeting
    assert (b["name"], b["path"]) == ("b", "/env/4")
    # The documented log format keeps query tokens out of the access log. wsb_close returned
    # after nginx closed the connection, which it does after writing the log line.
    log = (endpoint.directory / "access.log").read_text()
    assert '"GET /a/env/3"' in log and '"GET /b/env/4"' in log, log
    assert TOKEN_A not in log, log


def test_messages_through_nginx(netclient: Client, endpoint, options) -> None:
    url = endpoint.url(f"/a/env/5?token={TOKEN_A}")
    assert netclient(url, options, n=2 * 2**20).ok().fields["echoed"] == str(2 * 2**20)
    burst = netclient(endpoint.url(f"/b/burst/200?token={TOKEN_B}"), options, mode="burst", n=200)
    assert burst.fields.get("received") == "200", burst.output
    netclient(endpoint.url(f"/a/env/6?token={TOKEN_A}"), options, mode="async").ok()


def test_through_a_forward_proxy_to_the_endpoint(netclient: Client, endpoint, options, open_proxy) -> None:
    # The whole path: game -> corporate proxy (CONNECT) -> nginx (TLS) -> trainer.
    run = netclient(endpoint.url(f"/b/env/7?token={TOKEN_B}"), {**options, "proxy": open_proxy.url()})
    assert run.ok().greeting["headers"]["x-forwarded-for"] == PROXY_SOURCE_IP
    env = {"HTTPS_PROXY": open_proxy.url()}
    run = netclient(endpoint.url(f"/a/env/8?token={TOKEN_A}"), options, env=env)
    assert run.ok().greeting["headers"]["x-forwarded-for"] == PROXY_SOURCE_IP


def test_refusals_carry_the_status_and_body(netclient: Client, endpoint, options) -> None:
    netclient(endpoint.url("/a/env/9"), options).failed(
        "WSB_HANDSHAKE_FAILED", "HTTP 401", "missing or wrong token"
    )
    netclient(endpoint.url(f"/a/env/9?token={TOKEN_B}"), options).failed("WSB_HANDSHAKE_FAILED", "HTTP 401")
    netclient(endpoint.url("/c/env/1"), options).failed("WSB_HANDSHAKE_FAILED", "HTTP 404", "no trainer here")


def test_without_server_name_the_ip_does_not_match_the_certificate(netclient: Client, endpoint, pki) -> None:
    netclient(endpoint.url(f"/a/env/1?token={TOKEN_A}"), {"tls": {"ca_file": str(pki.ca)}}).failed(
        "WSB_TLS_FAILED", 'not valid for the host name "127.0.0.1"', "trainers.example.com", "`tls.server_name`"
    )


def test_trainer_down_is_502(netclient: Client, tmp_path, pki, options) -> None:
    with trainer("a", None) as a:
        down = Endpoint(tmp_path / "nginx", a.port, dead_port(), pki)
        try:
            assert netclient(down.url("/a/env/1"), options).ok().greeting["name"] == "a"
            netclient(down.url("/b/env/1"), options).failed("WSB_HANDSHAKE_FAILED", "HTTP 502")
        finally:
            down.stop()


def test_the_documented_trainer_example_is_valid_python() -> None:
    ast.parse(documented_block("python"))
