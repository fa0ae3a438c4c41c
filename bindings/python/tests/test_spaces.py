"""Spaces as JSON (docs/protocol.md, *Spaces*) and the dtype actions travel in."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces

from wsbridge import ProtocolError
from wsbridge.spaces import action_wire_dtype, space_from_json, space_to_json

SPACES = [
    spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32),
    spaces.Box(np.array([-np.inf, 0.0]), np.array([np.inf, 5.0]), dtype=np.float64),
    spaces.Box(0, 255, shape=(84, 84, 3), dtype=np.uint8),
    spaces.Box(-3, 3, shape=(2, 2), dtype=np.int32),
    spaces.Discrete(5, start=-2),
    spaces.MultiDiscrete([3, 4, 2]),
    spaces.MultiBinary([2, 3]),
]


@pytest.mark.parametrize("space", SPACES, ids=str)
def test_spaces_survive_json(space: spaces.Space[Any]) -> None:
    text = json.dumps(space_to_json(space), allow_nan=False)
    assert space_from_json(json.loads(text), "observation_space") == space


def test_unbounded_dimensions_are_written_as_strings() -> None:
    box = space_to_json(spaces.Box(np.float32([-np.inf]), np.float32([np.inf]), dtype=np.float32))
    assert (box["low"], box["high"]) == (["-inf"], ["inf"])


def test_float_bounds_written_in_float64_keep_their_float32_value() -> None:
    # What a C game prints for FLT_MAX with %.9g.
    box = space_from_json({"type": "box", "shape": [1], "dtype": "float32", "low": [-3.40282347e38],
                           "high": [3.40282347e38]}, "observation_space")
    assert box.high[0] == np.finfo(np.float32).max and np.isfinite(box.low[0])


@pytest.mark.parametrize(
    "obj, message",
    [
        ([1], "observation_space must be an object with a string 'type'"),
        ({"type": "sphere"}, "observation_space: unknown space type 'sphere'"),
        ({"type": "box", "shape": [2], "dtype": "complex64", "low": 0, "high": 1},
         "observation_space: box dtype 'complex64' is not a numeric protocol dtype"),
        ({"type": "box", "shape": "2", "dtype": "float32", "low": 0, "high": 1},
         "observation_space: box shape must be a list of non-negative integers"),
        ({"type": "box", "shape": [2], "dtype": "float32", "low": "zero", "high": 1},
         "observation_space: a box bound must be a number"),
        ({"type": "box", "shape": [2], "dtype": "float32", "low": 1, "high": 0},
         "observation_space: gymnasium rejected the box space"),
        ({"type": "box", "shape": [2], "dtype": "float32", "low": [0, 0, 0], "high": 1},
         "observation_space: gymnasium rejected the box space"),
        ({"type": "discrete", "n": 2.5}, "observation_space: 'n' must be an integer, not 2.5"),
        ({"type": "discrete", "n": 0}, "observation_space: gymnasium rejected the discrete space"),
        ({"type": "multi_discrete", "nvec": []}, "observation_space: nvec must be a non-empty list of integers"),
    ],
)
def test_bad_spaces_are_refused_with_the_facts(obj: Any, message: str) -> None:
    with pytest.raises(ProtocolError) as e:
        space_from_json(obj, "observation_space")
    assert message in str(e.value)


def test_actions_travel_as_documented() -> None:
    assert action_wire_dtype(spaces.Discrete(3)) == np.dtype("<i8")
    assert action_wire_dtype(spaces.MultiDiscrete([2, 2])) == np.dtype("<i8")
    assert action_wire_dtype(spaces.MultiBinary(4)) == np.dtype("<i1")
    assert action_wire_dtype(spaces.Box(-1, 1, (2,), np.float32)) == np.dtype("<f4")
