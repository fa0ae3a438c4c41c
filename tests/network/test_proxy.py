"""HTTP CONNECT proxies (tinyproxy), from the `proxy` option and from the environment.

tinyproxy connects out from 127.0.0.2 (daemons.PROXY_SOURCE_IP): the trainer's greeting reports
the peer address it saw, which tells a tunnelled connection (127.0.0.2) from a direct one
(127.0.0.1)."""

from __future__ import annotations

import pytest
from conftest import Client, dead_port, ws, wss
from daemons import PROXY_SOURCE_IP, TinyProxy

DIRECT = "127.0.0.1"


@pytest.fixture(scope="module")
def auth_proxy(tmp_path_factory: pytest.TempPathFactory):
    proxy = TinyProxy(tmp_path_factory.mktemp("auth-proxy"), auth=("alice", "s3cret"))
    yield proxy
    proxy.stop()


def test_ws_through_the_proxy_option(netclient: Client, plain_trainer, open_proxy) -> None:
    run = netclient(ws(plain_trainer), {"proxy": open_proxy.url()}).ok()
    assert run.greeting["peer"] == PROXY_SOURCE_IP


@pytest.mark.parametrize("mode", ["open", "async"])
def test_wss_through_the_proxy_option(netclient: Client, tls_trainer, open_proxy, pki, mode) -> None:
    options = {"proxy": open_proxy.url(), "tls": {"ca_file": str(pki.ca)}}
    run = netclient(wss(tls_trainer), options, mode=mode).ok()
    if mode == "open":
        assert run.greeting["peer"] == PROXY_SOURCE_IP


# (scheme, environment, expected peer): {proxy} is the open proxy's URL.
ENVIRONMENTS = [
    ("wss", {"HTTPS_PROXY": "{proxy}"}, PROXY_SOURCE_IP),
    ("wss", {"https_proxy": "{proxy}"}, PROXY_SOURCE_IP),
    ("wss", {"ALL_PROXY": "{proxy}"}, PROXY_SOURCE_IP),
    ("ws", {"HTTP_PROXY": "{proxy}"}, PROXY_SOURCE_IP),
    ("ws", {"http_proxy": "{proxy}"}, PROXY_SOURCE_IP),
    ("ws", {"all_proxy": "{proxy}"}, PROXY_SOURCE_IP),
    # The lower-case name wins over the upper-case one, as in curl.
    ("wss", {"https_proxy": "{proxy}", "HTTPS_PROXY": "http://127.0.0.1:{dead}"}, PROXY_SOURCE_IP),
    # Each scheme has its own variable.
    ("wss", {"HTTP_PROXY": "{proxy}"}, DIRECT),
    ("ws", {"HTTPS_PROXY": "{proxy}"}, DIRECT),
    # NO_PROXY: IP addresses, CIDR blocks, names, *.
    ("wss", {"HTTPS_PROXY": "{proxy}", "NO_PROXY": "127.0.0.1"}, DIRECT),
    ("ws", {"http_proxy": "{proxy}", "no_proxy": "example.com, 127.0.0.0/8"}, DIRECT),
    ("ws", {"ALL_PROXY": "{proxy}", "NO_PROXY": "*"}, DIRECT),
    ("wss", {"HTTPS_PROXY": "{proxy}", "NO_PROXY": "localhost,127.0.0.2"}, PROXY_SOURCE_IP),
]


@pytest.mark.parametrize("scheme,environment,peer", ENVIRONMENTS)
def test_proxy_environment_variables(
    netclient: Client, plain_trainer, tls_trainer, open_proxy, pki, scheme, environment, peer
) -> None:
    env = {k: v.format(proxy=open_proxy.url(), dead=dead_port()) for k, v in environment.items()}
    if scheme == "wss":
        run = netclient(wss(tls_trainer), {"tls": {"ca_file": str(pki.ca)}}, env=env)
    else:
        run = netclient(ws(plain_trainer), env=env)
    assert run.ok().greeting["peer"] == peer


def test_proxy_from_env_false_ignores_the_environment(netclient: Client, tls_trainer, pki) -> None:
    dead = f"http://127.0.0.1:{dead_port()}"
    env = {"HTTPS_PROXY": dead}
    options = {"tls": {"ca_file": str(pki.ca)}}
    netclient(wss(tls_trainer), options, env=env).failed(
        "WSB_CONNECT_FAILED",
        wss(tls_trainer),
        f"through proxy {dead} (environment variable HTTPS_PROXY)",
        "Connection refused",
    )
    run = netclient(wss(tls_trainer), {**options, "proxy_from_env": False}, env=env).ok()
    assert run.greeting["peer"] == DIRECT


def test_proxy_authentication(netclient: Client, plain_trainer, auth_proxy) -> None:
    netclient(ws(plain_trainer), {"proxy": auth_proxy.url()}).failed(
        "WSB_CONNECT_FAILED",
        ws(plain_trainer),
        auth_proxy.url(),
        f"refused CONNECT 127.0.0.1:{plain_trainer.port}",
        "407",
        "no credentials were given",
    )
    wrong = netclient(ws(plain_trainer), {"proxy": auth_proxy.url("alice:wrong-password")})
    # tinyproxy answers wrong credentials with 401 rather than 407: the status line is quoted.
    wrong.failed(
        "WSB_CONNECT_FAILED", '"HTTP/1.0 401', auth_proxy.url("alice:***"), 'user "alice" were rejected'
    )
    assert "wrong-password" not in wrong.error
    run = netclient(ws(plain_trainer), {"proxy": auth_proxy.url("alice:s3cret")}).ok()
    assert run.greeting["peer"] == PROXY_SOURCE_IP
    # Credentials in the environment variable work the same way.
    env = {"http_proxy": auth_proxy.url("alice:s3cret")}
    assert netclient(ws(plain_trainer), env=env).ok().greeting["peer"] == PROXY_SOURCE_IP


def test_proxy_refusing_connect(netclient: Client, plain_trainer, tls_trainer, open_proxy, tmp_path) -> None:
    strict = TinyProxy(tmp_path / "strict", connect_ports=(plain_trainer.port,))
    try:
        assert netclient(ws(plain_trainer), {"proxy": strict.url()}).ok()
        netclient(wss(tls_trainer), {"proxy": strict.url()}).failed(
            "WSB_CONNECT_FAILED",
            wss(tls_trainer),
            strict.url(),
            f"refused CONNECT 127.0.0.1:{tls_trainer.port}",
            "403",
        )
    finally:
        strict.stop()
    # The server behind the proxy is down: the proxy says so with its own status line.
    port = dead_port()
    netclient(f"ws://127.0.0.1:{port}/", {"proxy": open_proxy.url()}).failed(
        "WSB_CONNECT_FAILED", open_proxy.url(), f"refused CONNECT 127.0.0.1:{port}", '"HTTP/1.'
    )


def test_proxy_that_never_answers_times_out(netclient: Client, plain_trainer, stall) -> None:
    proxy = f"http://127.0.0.1:{stall.port}"
    netclient(ws(plain_trainer), {"proxy": proxy, "connect_timeout_ms": 300}).failed(
        "WSB_TIMEOUT",
        ws(plain_trainer),
        proxy,
        "timed out after 300 ms (waiting for the proxy's answer to CONNECT)",
    )


def test_unreachable_proxy(netclient: Client, plain_trainer) -> None:
    proxy = f"http://127.0.0.1:{dead_port()}"
    netclient(ws(plain_trainer), {"proxy": proxy}).failed(
        "WSB_CONNECT_FAILED", f"through proxy {proxy} (option `proxy`)", "Connection refused"
    )


def test_bad_proxy_settings_are_rejected_before_connecting(netclient: Client, plain_trainer) -> None:
    netclient(ws(plain_trainer), env={"ALL_PROXY": "socks5://bob:hunter2@127.0.0.1:1080"}).failed(
        "WSB_INVALID_ARGUMENT",
        "environment variable ALL_PROXY",
        "only http:// proxies",
        "bob:***@",
        "`proxy_from_env`",
    )
    netclient(ws(plain_trainer), {"proxy": "http://127.0.0.1:99999"}).failed(
        "WSB_INVALID_ARGUMENT", "option `proxy`", "99999"
    )
