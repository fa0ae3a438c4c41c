"""Gymnasium spaces as JSON (``docs/protocol.md``, section *Spaces*), and how actions travel."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from .errors import ProtocolError
from .wire import DTYPES

__all__ = ["action_wire_dtype", "space_from_json", "space_to_json"]

Space = spaces.Space[Any]


def space_to_json(space: Space) -> dict[str, Any]:
    """The JSON form of a space (what a game puts in its ``hello``)."""
    if isinstance(space, spaces.Box):
        return {
            "type": "box",
            "shape": list(space.shape),
            "dtype": np.dtype(space.dtype).name,
            "low": _bounds_to_json(space.low),
            "high": _bounds_to_json(space.high),
        }
    if isinstance(space, spaces.Discrete):
        return {"type": "discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        return {"type": "multi_discrete", "nvec": space.nvec.tolist()}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "multi_binary", "n": list(space.shape)}
    raise ValueError(f"{type(space).__name__} spaces are not part of protocol version 1")


def space_from_json(obj: Any, what: str) -> Space:
    """Builds a space from its JSON form; ``what`` names it in errors ("observation_space")."""
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise ProtocolError(f"{what} must be an object with a string 'type', not {obj!r:.80}")
    kind = obj["type"]
    try:
        if kind == "box":
            dtype = DTYPES.get(obj.get("dtype"))  # type: ignore[arg-type]
            if dtype is None or dtype.kind == "b":
                raise ProtocolError(f"box dtype {obj.get('dtype')!r} is not a numeric protocol dtype")
            shape = obj.get("shape")
            if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
                raise ProtocolError(f"box shape must be a list of non-negative integers, not {shape!r}")
            native = dtype.newbyteorder("=")
            low, high = (_bounds_from_json(obj.get(k), native) for k in ("low", "high"))
            return spaces.Box(low, high, shape=tuple(shape), dtype=native)
        if kind == "discrete":
            return spaces.Discrete(_integer(obj.get("n"), "n"), start=_integer(obj.get("start", 0), "start"))
        if kind == "multi_discrete":
            nvec = obj.get("nvec")
            if not isinstance(nvec, list) or not nvec or not all(type(n) is int for n in nvec):
                raise ProtocolError(f"nvec must be a non-empty list of integers, not {nvec!r}")
            return spaces.MultiDiscrete(nvec)
        if kind == "multi_binary":
            n = obj.get("n")
            if isinstance(n, list) and all(type(k) is int for k in n):
                return spaces.MultiBinary(n)
            return spaces.MultiBinary(_integer(n, "n"))
    except ProtocolError as e:
        raise ProtocolError(f"{what}: {e}") from None
    except (ValueError, TypeError, AssertionError) as e:
        raise ProtocolError(f"{what}: gymnasium rejected the {kind} space: {e}") from None
    raise ProtocolError(f"{what}: unknown space type {kind!r} (box, discrete, multi_discrete, multi_binary)")


def action_wire_dtype(space: Space) -> np.dtype[Any]:
    """The dtype of the ``action`` array in a ``step`` message for this action space."""
    if isinstance(space, (spaces.Discrete, spaces.MultiDiscrete)):
        return DTYPES["int64"]
    if isinstance(space, spaces.MultiBinary):
        return DTYPES["int8"]
    if isinstance(space, spaces.Box):
        return np.dtype(space.dtype).newbyteorder("<")
    raise ValueError(f"{type(space).__name__} action spaces are not part of protocol version 1")


def _integer(value: Any, key: str) -> int:
    if type(value) is not int:
        raise ProtocolError(f"'{key}' must be an integer, not {value!r}")
    return value


def _bounds_to_json(values: np.ndarray[Any, Any]) -> Any:
    def one(v: Any) -> Any:
        if isinstance(v, list):
            return [one(x) for x in v]
        if isinstance(v, float) and np.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v

    return one(values.tolist())


def _bounds_from_json(value: Any, dtype: np.dtype[Any]) -> Any:
    def one(v: Any) -> Any:
        if isinstance(v, list):
            return [one(x) for x in v]
        if v in ("inf", "-inf"):
            return float(v)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ProtocolError(f"a box bound must be a number, \"inf\" or \"-inf\", not {v!r}")
        return v

    bounds = np.array(one(value), dtype=np.float64)
    if bounds.ndim == 0:
        return float(bounds)
    # A float box takes its bounds in its own precision (JSON numbers are float64).
    return bounds.astype(dtype) if dtype.kind == "f" else bounds
