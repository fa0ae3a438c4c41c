"""The RL libraries' tests (``make test-rl``, in its own virtual environment with torch, ray,
stable-baselines3 and pettingzoo): the fixtures of ``../python`` (real cartpole processes, a hub)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

# Ray starts its worker processes at nice 15 (its `worker_niceness` setting). With anything else
# busy on the machine (`make test-repeat LOAD=1`'s busy loops, a build, another suite) they get a
# few percent of a core: the suite then ran 5 to 8 minutes instead of under one, without any test
# being about priorities. At 0 they share the machine as the games and hubs they talk to do.
os.environ.setdefault("RAY_worker_niceness", "0")

_TESTS = Path(__file__).resolve().parents[1] / "python"
sys.path.insert(0, str(_TESTS))
_spec = importlib.util.spec_from_file_location("wsbridge_test_fixtures", _TESTS / "conftest.py")
assert _spec is not None and _spec.loader is not None
fixtures = importlib.util.module_from_spec(_spec)
sys.modules["wsbridge_test_fixtures"] = fixtures
_spec.loader.exec_module(fixtures)

GAME = fixtures.GAME
Game = fixtures.Game
launch = fixtures.launch
hub_factory = fixtures.hub_factory
