"""ThreadSanitizer over the C programs (`make sanitize` only: it needs a TSan-instrumented
libwsbridge.so from nightly Rust). The cases where threads meet: the close race, ten threads
sharing connections, close waking a blocked receive, shutdown, a peer dying mid-message."""

from __future__ import annotations

import pytest
from programs import binary, expect_rejection, run

TSAN_ENV = {"TSAN_OPTIONS": "halt_on_error=1 second_deadlock_stack=1"}

FAULT_CASES = [["close_race", "300"], ["stale_handles"], ["killed"], ["noclose"], ["oversize_in", "bigfrag"]]
# threads_stop and shutdown count threads, and TSan runs a helper thread of its own.
ABI_CASES = ["threads", "close_wakes_recv", "server_close", "async_live", "async_dead", "keepalive"]


@pytest.mark.parametrize("mode, rejected", [("clean", False), ("race", True)])
def test_tsan_rejects_a_known_race(mode, rejected):
    expect_rejection([str(binary("canary_tsan")), mode], TSAN_ENV, rejected)


@pytest.mark.parametrize("args", FAULT_CASES, ids=["-".join(a) for a in FAULT_CASES])
def test_faults_under_tsan(fault_env, args):
    run([str(binary("fault_test_tsan")), *args], {**fault_env, **TSAN_ENV}, timeout=600)


@pytest.mark.parametrize("name", ABI_CASES)
def test_abi_under_tsan(abi_servers, name):
    run([str(binary("abi_test_tsan")), name], {**abi_servers, **TSAN_ENV}, timeout=600)
