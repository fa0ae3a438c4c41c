"""wss:// against Python `websockets` servers over TLS, with a CA and certificates made for the
run (pki.py): what works, and how each certificate problem is reported."""

from __future__ import annotations

import pytest
from conftest import Client, trainer, ws, wss


def test_echo_over_tls_with_the_test_ca(netclient: Client, tls_trainer, pki) -> None:
    run = netclient(wss(tls_trainer, "/env/7?token=abc"), {"tls": {"ca_file": str(pki.ca)}}).ok()
    greeting = run.greeting
    assert (greeting["name"], greeting["path"], greeting["query"]) == ("tls", "/env/7", "token=abc")
    assert run.fields["echoed"] == "1000"


def test_large_messages_cross_tls_records_both_ways(netclient: Client, tls_trainer, pki) -> None:
    # 6 MiB: far more than rustls's 64 KiB send buffer and the socket buffers, so writing
    # meets WouldBlock many times, and reading reassembles hundreds of TLS records.
    size = 6 * 2**20
    run = netclient(wss(tls_trainer), {"tls": {"ca_file": str(pki.ca)}}, n=size).ok()
    assert run.fields["echoed"] == str(size)


@pytest.mark.parametrize("n", [300, 4000])
def test_many_messages_in_one_tls_burst_are_all_delivered(netclient: Client, tls_trainer, pki, n) -> None:
    # n small messages written at once: 300 fit in one TLS record, 4000 (28 KB) take two
    # records and more than one read of wsbridge's 16 KiB read buffer. Once the first message
    # is received the others have arrived too, and wsb_recv with timeout 0 must find each one:
    # what rustls already decrypted must be handed out, though the socket has nothing left.
    run = netclient(wss(tls_trainer, f"/burst/{n}"), {"tls": {"ca_file": str(pki.ca)}}, mode="burst", n=n)
    assert run.fields.get("received") == str(n), run.output
    run.ok()


def test_async_connect_queues_messages_until_tls_and_upgrade_are_done(
    netclient: Client, tls_trainer, pki
) -> None:
    netclient(wss(tls_trainer), {"tls": {"ca_file": str(pki.ca)}}, mode="async").ok()


def test_server_name_option_verifies_another_name(netclient: Client, pki) -> None:
    # The certificate names only other.test; connecting by IP with tls.server_name works.
    with trainer("alias", pki.wrong_host) as server:
        options = {"tls": {"ca_file": str(pki.ca), "server_name": "other.test"}}
        assert netclient(wss(server), options).ok().greeting["name"] == "alias"


def test_unknown_ca(netclient: Client, tls_trainer, pki) -> None:
    # Without tls.ca_file the system's roots are used, and they do not know the test CA.
    netclient(wss(tls_trainer)).failed(
        "WSB_TLS_FAILED", wss(tls_trainer), "127.0.0.1", "unknown CA", "system", "`tls.ca_file`"
    )
    # A CA file with another CA replaces the system roots, and does not help either.
    netclient(wss(tls_trainer), {"tls": {"ca_file": str(pki.other_ca)}}).failed(
        "WSB_TLS_FAILED", "unknown CA", str(pki.other_ca)
    )


def test_wrong_host_name(netclient: Client, pki) -> None:
    with trainer("wrong", pki.wrong_host) as server:
        netclient(wss(server), {"tls": {"ca_file": str(pki.ca)}}).failed(
            "WSB_TLS_FAILED",
            wss(server),
            'not valid for the host name "127.0.0.1"',
            "other.test",
            "`tls.server_name`",
        )


def test_expired_certificate(netclient: Client, pki) -> None:
    with trainer("expired", pki.expired) as server:
        run = netclient(wss(server), {"tls": {"ca_file": str(pki.ca)}})
        run.failed("WSB_TLS_FAILED", wss(server), '"127.0.0.1" has expired', "valid until", "UTC")


@pytest.mark.parametrize("which", ["expired", "wrong_host"])
def test_accept_invalid_certs_connects_anyway(netclient: Client, pki, which: str) -> None:
    with trainer(which, getattr(pki, which)) as server:
        options = {"tls": {"accept_invalid_certs": True}}
        assert netclient(wss(server), options).ok().greeting["name"] == which


def test_stalled_handshake_times_out_naming_the_stage(netclient: Client, stall) -> None:
    url = wss(stall)
    netclient(url, {"connect_timeout_ms": 300}).failed(
        "WSB_TIMEOUT", url, "timed out after 300 ms (TLS handshake)"
    )


def test_plain_server_behind_a_wss_url(netclient: Client, plain_trainer, pki) -> None:
    url = wss(plain_trainer)
    netclient(url, {"tls": {"ca_file": str(pki.ca)}}).failed(
        "WSB_TLS_FAILED", url, "closed the connection mid-handshake", "plain ws://"
    )


def test_bad_tls_options_are_rejected_before_connecting(netclient: Client, tls_trainer, pki) -> None:
    netclient(wss(tls_trainer), {"tls": {"ca_file": "/nonexistent/ca.pem"}}).failed(
        "WSB_INVALID_ARGUMENT", "`tls.ca_file`", "/nonexistent/ca.pem", "No such file"
    )
    netclient(wss(tls_trainer), {"tls": {"ca_file": str(pki.local.key)}}).failed(
        "WSB_INVALID_ARGUMENT", "`tls.ca_file`", "no PEM certificate"
    )
    netclient(wss(tls_trainer), {"tls": {"verify": False}}).failed(
        "WSB_INVALID_ARGUMENT", "unknown option `tls.verify`", "accept_invalid_certs"
    )
    url = ws(tls_trainer, "/")
    netclient(url, {"tls": {"ca_file": str(pki.ca)}}).failed(
        "WSB_INVALID_ARGUMENT", "option `tls`", "not encrypted", "wss://"
    )
