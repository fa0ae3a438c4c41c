"""Memory and thread safety of the C programs: valgrind memcheck (zero errors, nothing
definitely lost) and gcc's ASan/UBSan (LeakSanitizer included), over tests/interop/abi_test.c, the
fault cases and the unloading test. The canary proves each checker, with these very options,
rejects a known bug.

Valgrind runs programs linked against the release library (with debug info): optimised code
at valgrind's pace. It takes a representative subset (every kind of call, thread and failure
path, see ABI_UNDER_VALGRIND and FAULT_UNDER_VALGRIND); ASan/UBSan builds link the debug
library and take every case but the RSS measurements (its quarantine keeps freed memory)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cases import CASES, RSS_CASES, argvs, ids
from programs import LIBS, binary, expect_rejection, run

HERE = Path(__file__).resolve().parent
VALGRIND = [
    "valgrind",
    "-q",
    f"--suppressions={HERE / 'valgrind.supp'}",
    "--error-exitcode=99",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite",
    "--show-leak-kinds=definite",
    "--fair-sched=yes",
]
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:halt_on_error=1:exitcode=98",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
}

# abi_test cases under valgrind: argument checks, stale handles, ten threads on ten
# connections, peer close, refused upgrade, connect timeout and failure, flush, message sizes,
# local rejections, close waking a blocked recv, background threads stopping, shutdown,
# headers. Left out: keepalive (five seconds of sleep on paths `keepalive_idle` covers under
# ASan) and the cases that only repeat these paths (version, last_error, client_close_observed,
# async_live, async_timeout, connect_refused).
ABI_UNDER_VALGRIND = [
    "null_arguments", "invalid_handles", "round_trips", "threads", "server_close", "not_found",
    "connect_timeout", "async_dead", "flush", "buffer_too_small", "local_rejections", "close_wakes_recv",
    "threads_stop", "shutdown", "headers_and_subprotocol",
]

# fault cases under valgrind: one of each failure path of a connection (timeout, DNS, refused
# upgrade, garbage, killed peer, reset, oversized and malformed input, close never answered
# or half answered), stale handles, and the close race, reduced. Left out: the RSS
# measurements (valgrind's own memory), the frozen and idle servers (their timing at valgrind's
# pace), and the repeats of these paths.
FAULT_UNDER_VALGRIND = [
    "upgrade-never-answered", "unresolvable-host", "upgrade-refused-401", "upgrade-answered-with-garbage",
    "server-killed-mid-message", "reset-while-sending-no-sigpipe", "incoming-over-limit-fragments",
    "outgoing-over-limit", "malformed-len-short", "malformed-utf8-fragmented", "malformed-ping-oversized",
    "server-never-answers-close", "server-answers-close-keeps-tcp", "stale-and-forged-handles",
    "close-races-send-and-recv",
]


def reduced(args: list[str], iterations: str) -> list[str]:
    """The close race with fewer iterations: the checkers slow every call down."""
    return ["close_race", iterations] if args[0] == "close_race" else args


VALGRIND_CASES = [(i, reduced(a, "100")) for i, a in CASES if i in FAULT_UNDER_VALGRIND]
assert len(VALGRIND_CASES) == len(FAULT_UNDER_VALGRIND), "a name in FAULT_UNDER_VALGRIND is not in cases.py"
# fault cases under ASan/UBSan: all but the RSS measurements, the close race reduced.
ASAN_CASES = [(i, reduced(a, "300")) for i, a in CASES if a[0] not in RSS_CASES]


def abi_cases() -> list[str]:
    out = subprocess.run([str(binary("abi_test_asan")), "--list"], check=True, capture_output=True, text=True)
    return out.stdout.split()


# ---- the checkers themselves -----------------------------------------------------------------

@pytest.mark.parametrize("mode, rejected", [("clean", False), ("leak", True), ("uninit", True)])
def test_valgrind_rejects_a_known_bug(mode, rejected):
    expect_rejection(VALGRIND + [str(binary("canary")), mode], {}, rejected)


@pytest.mark.parametrize(
    "mode, rejected", [("clean", False), ("leak", True), ("overflow", True), ("signed-overflow", True)]
)
def test_sanitizers_reject_a_known_bug(mode, rejected):
    expect_rejection([str(binary("canary_asan")), mode], SANITIZER_ENV, rejected)


# ---- valgrind ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ABI_UNDER_VALGRIND)
def test_abi_under_valgrind(abi_servers, name):
    run(VALGRIND + [str(binary("abi_test_release")), name], abi_servers, timeout=300)


@pytest.mark.parametrize("args", argvs(VALGRIND_CASES), ids=ids(VALGRIND_CASES))
def test_faults_under_valgrind(fault_env, args):
    run(VALGRIND + [str(binary("fault_test_release")), *args], fault_env, timeout=300)


def test_unload_under_valgrind(servers):
    lib = str(LIBS["release"])
    run(VALGRIND + [str(binary("dlopen_test")), lib, "4", "--no-rss"], servers, timeout=300)


# ---- ASan / UBSan ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", abi_cases())
def test_abi_under_asan(abi_servers, name):
    run([str(binary("abi_test_asan")), name], {**abi_servers, **SANITIZER_ENV}, timeout=300)


@pytest.mark.parametrize("args", argvs(ASAN_CASES), ids=ids(ASAN_CASES))
def test_faults_under_asan(fault_env, args):
    run([str(binary("fault_test_asan")), *args], {**fault_env, **SANITIZER_ENV}, timeout=300)


def test_unload_under_asan(servers):
    lib = str(LIBS["debug"])
    run([str(binary("dlopen_test_asan")), lib, "10", "--no-rss"], {**servers, **SANITIZER_ENV}, timeout=300)
