"""``RemoteVectorEnv`` under the gymnasium these RL libraries pin (1.2, older than the package's
own test environment's 1.4): there ``VectorEnv.__del__`` closes every environment that is
garbage-collected, including one whose constructor raised."""

from __future__ import annotations

import gc
import sys
from typing import Any

from wsbridge import RemoteVectorEnv


def test_an_environment_whose_games_never_come_raises_the_timeout_and_nothing_else(hub_factory) -> None:
    # The close of the half-built environment must not fail: it printed "Exception ignored in:
    # VectorEnv.__del__ ... AttributeError: 'RemoteVectorEnv' object has no attribute '_games'"
    # into RLlib's logs after every EnvRunner that timed out waiting for its games.
    hub = hub_factory(games=1)
    unraisable: list[Any] = []
    message = "the constructor did not raise TimeoutError"
    previous, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        try:
            RemoteVectorEnv(hub, connect_timeout=0.2, progress=False)
        except TimeoutError as e:
            message = str(e)
        gc.collect()
    finally:
        sys.unraisablehook = previous
    assert message.startswith("no game connected within 0.2 s at /env/0")
    assert [f"{u.exc_type.__name__}: {u.exc_value}" for u in unraisable] == []
