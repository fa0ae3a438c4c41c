"""Spaces as JSON (docs/protocol.md, *Spaces*) and the dtype actions travel in."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces

from wsbridge import ProtocolError
from wsbridge.spaces import action_wire_dtype, leaves, space_bytes, space_from_json, space_to_json

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
         "observation_space: box 'dtype' 'complex64' is not a numeric protocol dtype"),
        ({"type": "box", "shape": "2", "dtype": "float32", "low": 0, "high": 1},
         "observation_space: 'shape' must be a list of at most 16 integers (max_space_dims)"),
        ({"type": "box", "shape": [2], "dtype": "float32", "low": "zero", "high": 1},
         "observation_space: 'low': a box bound must be a number"),
        ({"type": "box", "shape": [2], "dtype": "float32", "low": 1, "high": 0},
         "observation_space: gymnasium rejected the box space"),
        ({"type": "box", "shape": [2], "dtype": "float32", "low": [0, 0, 0], "high": 1},
         "observation_space: 'low' must be a number or nested lists of the box's shape [2]"),
        ({"type": "discrete", "n": 2.5}, "observation_space: 'n' must be an integer in [1, 2**63), not 2.5"),
        ({"type": "discrete", "n": 0}, "observation_space: 'n' must be an integer in [1, 2**63), not 0"),
        ({"type": "multi_discrete", "nvec": []}, "observation_space: 'nvec' must be a list of 1 to 1048576 integers"),
        # Sizes an attacker declares are checked before anything is allocated from them (issue 12).
        ({"type": "box", "shape": [4096, 4096], "dtype": "float64", "low": 0, "high": 1},
         "observation_space: 'shape' [4096, 4096] has 16777216 elements, more than the hub's max_space_elements "
         "(1048576)"),
        ({"type": "box", "shape": [1] * 65, "dtype": "float32", "low": 0, "high": 1},
         "observation_space: 'shape' must be a list of at most 16 integers (max_space_dims)"),
        ({"type": "box", "shape": [0, 2**70], "dtype": "float32", "low": 0, "high": 1},
         "observation_space: 'shape' must be an integer in [0, 1048577), not 1180591620717411303424"),
        ({"type": "box", "shape": [2], "dtype": "float32", "low": [[[[0]]]] * 2, "high": 1},
         "observation_space: 'low': a box bound must be a number"),
        ({"type": "box", "shape": [1], "dtype": "float64", "low": [10**400], "high": 1},
         "observation_space: 'low': the bound 1000000000"),
        # Found by make fuzz-python.
        ({"type": "box", "shape": [2], "dtype": {"a": 1}, "low": 0, "high": 1},
         "observation_space: box 'dtype' {'a': 1} is not a numeric protocol dtype"),
        ({"type": "box", "shape": [2], "dtype": "float32", "low": [0, -1e39], "high": 1},
         "observation_space: 'low': the bound -1e+39 is beyond float32"),
        ({"type": "discrete", "n": 10**30}, "observation_space: 'n' must be an integer in [1, 2**63), not 10000000"),
        ({"type": "discrete", "n": 2, "start": 2**63 - 1}, "observation_space: 'start' + 'n' must stay below 2**63"),
        ({"type": "multi_discrete", "nvec": [2, 10**30]}, "observation_space: 'nvec' must be an integer in [1, 2**63)"),
        ({"type": "multi_binary", "n": 2**40}, "observation_space: 'n' must be an integer in [1, 1048577)"),
        ({"type": "multi_binary", "n": [2**20, 2]}, "observation_space: 'n' [1048576, 2] has 2097152 elements"),
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


BOX = {"type": "box", "shape": [2], "dtype": "float32", "low": 0, "high": 1}
COMPOSITE = [
    spaces.Dict({"camera": spaces.Box(0, 255, (8, 8, 3), np.uint8), "speed": spaces.Discrete(3)}),
    spaces.Tuple((spaces.MultiBinary([4]), spaces.Dict({"a": spaces.MultiDiscrete([2, 3])}))),
]


@pytest.mark.parametrize("space", COMPOSITE, ids=str)
def test_dict_and_tuple_observation_spaces_survive_json(space: spaces.Space[Any]) -> None:
    text = json.dumps(space_to_json(space), allow_nan=False)
    assert space_from_json(json.loads(text), "observation_space", composite=True) == space


def test_dict_keys_are_sorted_and_leaves_named_by_path() -> None:
    space = space_from_json({"type": "dict", "spaces": {"z": BOX, "a": {"type": "tuple", "spaces": [BOX, BOX]}}},
                            "observation_space", composite=True)
    assert [path for path, _ in leaves(space)] == ["a.0", "a.1", "z"]
    assert space_bytes(space) == 3 * 8


@pytest.mark.parametrize(
    "obj, message",
    [
        ({"type": "dict", "spaces": {}}, "observation_space: a dict space needs 'spaces': a non-empty object"),
        ({"type": "tuple", "spaces": {"a": BOX}}, "observation_space: a tuple space needs 'spaces': a non-empty list"),
        ({"type": "dict", "spaces": {"a.b": BOX}}, "observation_space: dict key 'a.b' must be 1 to 64 characters"),
        ({"type": "dict", "spaces": {"a": BOX}, "extra": 1}, "observation_space: unknown key 'extra' in a dict space"),
        ({"type": "tuple", "spaces": [{"type": "tuple", "spaces": [{"type": "tuple", "spaces": [
            {"type": "tuple", "spaces": [{"type": "tuple", "spaces": [BOX]}]}]}]}]},
         "observation_space.0.0.0.0: dict and tuple spaces nest at most 4 deep"),
        ({"type": "tuple", "spaces": [BOX] * 17}, "observation_space: more than 16 parts in a dict or tuple space"),
        ({"type": "tuple", "spaces": [BOX] * 10**6}, "observation_space: more than 16 parts in a dict or tuple space"),
        # The elements of all leaves together are bounded by max_space_elements.
        ({"type": "tuple", "spaces": [{"type": "box", "shape": [2**19 + 1], "dtype": "uint8", "low": 0,
                                       "high": 1}] * 2},
         "observation_space.1: 'shape' must be an integer in [0, 524288), not 524289"),
        ({"type": "tuple", "spaces": [{"type": "sphere"}]}, "observation_space.0: unknown space type 'sphere'"),
    ],
)
def test_bad_dict_and_tuple_spaces_are_refused_with_the_facts(obj: Any, message: str) -> None:
    with pytest.raises(ProtocolError) as e:
        space_from_json(obj, "observation_space", composite=True)
    assert message in str(e.value)


def test_dict_and_tuple_spaces_are_for_observations_only() -> None:
    with pytest.raises(ProtocolError, match="action_space: dict spaces are for observations only"):
        space_from_json({"type": "dict", "spaces": {"a": BOX}}, "action_space")
    with pytest.raises(ValueError, match="Dict action spaces are not part of protocol version 1"):
        action_wire_dtype(COMPOSITE[0])
