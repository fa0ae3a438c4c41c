"""The fault suite: the C ABI against real misbehaving peers (tests/fault/fault_test/, built by
mk/reliability.mk). Each C case asserts the result codes, the facts in wsb_last_error and that
every call returned within its timeout; these tests start the servers and run the cases
listed in cases.py."""

from __future__ import annotations

import pytest
from cases import CASES, FORBIDDEN_CLOSE_CODES, argvs, ids
from programs import LIBS, binary, run


@pytest.mark.parametrize("args", argvs(CASES), ids=ids(CASES))
def test_fault(fault_env, args):
    run([str(binary("fault_test")), *args], fault_env, timeout=300)


@pytest.mark.parametrize("args", argvs(FORBIDDEN_CLOSE_CODES), ids=ids(FORBIDDEN_CLOSE_CODES))
def test_forbidden_close_code(fault_env, args):
    run([str(binary("fault_test")), *args], fault_env)


def test_unload_and_reload_the_library(servers):
    """dlopen, connect, wsb_shutdown, dlclose, twenty times: threads gone, library unmapped,
    RSS flat. Also under valgrind and ASan in test_memory.py."""
    run([str(binary("dlopen_test")), str(LIBS["debug"]), "20"], servers)
