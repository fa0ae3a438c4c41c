"""Gymnasium spaces as JSON (``docs/protocol.md``, section *Spaces*), and how actions travel."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
from gymnasium import spaces

from .errors import ProtocolError
from .wire import DTYPES

__all__ = ["MAX_SPACE_DEPTH", "MAX_SPACE_DIMS", "MAX_SPACE_ELEMENTS", "MAX_SPACE_PARTS", "action_wire_dtype",
           "concat_rows", "leaves", "select_row", "space_bytes", "space_from_json", "space_to_json"]

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
    if isinstance(space, spaces.Dict):
        return {"type": "dict", "spaces": {key: space_to_json(sub) for key, sub in space.spaces.items()}}
    if isinstance(space, spaces.Tuple):
        return {"type": "tuple", "spaces": [space_to_json(sub) for sub in space.spaces]}
    raise ValueError(f"{type(space).__name__} spaces are not part of protocol version 1")


#: Dict and tuple observation spaces nest at most this deep, with at most this many leaves.
MAX_SPACE_DEPTH = 4
MAX_SPACE_PARTS = 16
_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


def leaves(space: Space, prefix: str = "") -> list[tuple[str, Space]]:
    """The leaves of a dict or tuple space, in wire order, with their paths ("camera",
    "sensors.0"); ``[("", space)]`` for a plain space. Each travels as the array ``obs.<path>``
    (``obs`` for a plain space)."""
    def join(key: str) -> str:
        return f"{prefix}.{key}" if prefix else key

    if isinstance(space, spaces.Dict):
        return [leaf for key, sub in space.spaces.items() for leaf in leaves(sub, join(key))]
    if isinstance(space, spaces.Tuple):
        return [leaf for i, sub in enumerate(space.spaces) for leaf in leaves(sub, join(str(i)))]
    return [(prefix, space)]


def space_bytes(space: Space) -> int:
    """Bytes of one sample of the space on the wire (all leaves of a dict or tuple)."""
    return sum(math.prod(leaf.shape or ()) * np.dtype(leaf.dtype).itemsize for _, leaf in leaves(space))


def concat_rows(trees: list[Any]) -> Any:
    """Concatenates per-game observation rows: arrays, or dicts and tuples of them."""
    first = trees[0]
    if isinstance(first, dict):
        return {key: concat_rows([t[key] for t in trees]) for key in first}
    if isinstance(first, tuple):
        return tuple(concat_rows([t[i] for t in trees]) for i in range(len(first)))
    return np.concatenate(trees)


def select_row(tree: Any, i: int) -> Any:
    """Row ``i`` of observation rows: arrays, or dicts and tuples of them."""
    if isinstance(tree, dict):
        return {key: select_row(value, i) for key, value in tree.items()}
    if isinstance(tree, tuple):
        return tuple(select_row(value, i) for value in tree)
    return tree[i]


#: The default limits on a space a game declares (see :class:`~wsbridge.Hub`).
MAX_SPACE_DIMS = 16
MAX_SPACE_ELEMENTS = 2**20

_INT64 = (-(2**63), 2**63)


def space_from_json(obj: Any, what: str, *, max_dims: int = MAX_SPACE_DIMS,
                    max_elements: int = MAX_SPACE_ELEMENTS, composite: bool = False) -> Space:
    """Builds a space from its JSON form; ``what`` names it in errors ("observation_space").

    Every size the JSON declares is checked against ``max_dims`` (dimensions of a shape) and
    ``max_elements`` (numbers in one sample of the space, all leaves of a dict or tuple
    together) before anything is allocated from it. ``composite`` allows dict and tuple spaces
    (observations only: at most ``MAX_SPACE_DEPTH`` deep and ``MAX_SPACE_PARTS`` leaves).
    Raises :class:`ProtocolError` naming the key that is wrong.
    """
    if isinstance(obj, dict) and obj.get("type") in ("dict", "tuple"):
        if not composite:
            raise ProtocolError(f"{what}: {obj['type']} spaces are for observations only")
        budget = {"parts": MAX_SPACE_PARTS, "elements": max_elements}
        return _composite(obj, what, 0, budget, max_dims)
    return _leaf(obj, what, max_dims, max_elements)


def _composite(obj: dict[str, Any], what: str, depth: int, budget: dict[str, int], max_dims: int) -> Space:
    """A dict or tuple space; ``budget`` holds the leaves and elements still allowed."""
    kind = obj["type"]
    if depth == MAX_SPACE_DEPTH:
        raise ProtocolError(f"{what}: dict and tuple spaces nest at most {MAX_SPACE_DEPTH} deep")
    extra = set(obj) - {"type", "spaces"}
    if extra:
        raise ProtocolError(f"{what}: unknown key {sorted(extra)[0]!r:.40} in a {kind} space (keys: type, spaces)")
    subs = obj.get("spaces")
    items: list[tuple[str, Any]]
    if kind == "dict" and isinstance(subs, dict) and subs:
        for key in subs:
            if not isinstance(key, str) or not _KEY.fullmatch(key):
                raise ProtocolError(f"{what}: dict key {key!r:.80} must be 1 to 64 characters of A-Z, a-z, 0-9, _ "
                                    "and -")
        items = sorted(subs.items())
    elif kind == "tuple" and isinstance(subs, list) and subs:
        items = [(str(i), sub) for i, sub in enumerate(subs)]
    else:
        raise ProtocolError(f"{what}: a {kind} space needs 'spaces': a non-empty "
                            f"{'object' if kind == 'dict' else 'list'} of spaces")
    built: list[tuple[str, Space]] = []
    for key, sub in items[:budget["parts"] + 1]:
        where = f"{what}.{key}"
        if isinstance(sub, dict) and sub.get("type") in ("dict", "tuple"):
            built.append((key, _composite(sub, where, depth + 1, budget, max_dims)))
            continue
        if budget["parts"] == 0:
            raise ProtocolError(f"{what}: more than {MAX_SPACE_PARTS} parts in a dict or tuple space")
        leaf = _leaf(sub, where, max_dims, budget["elements"])
        budget["parts"] -= 1
        budget["elements"] -= _elements(leaf)
        built.append((key, leaf))
    if len(built) < len(items):
        raise ProtocolError(f"{what}: more than {MAX_SPACE_PARTS} parts in a dict or tuple space")
    return spaces.Dict(dict(built)) if kind == "dict" else spaces.Tuple([sub for _, sub in built])


def _elements(space: Space) -> int:
    if isinstance(space, spaces.Discrete):
        return 1
    return math.prod(space.shape or ())


def _leaf(obj: Any, what: str, max_dims: int, max_elements: int) -> Space:
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise ProtocolError(f"{what} must be an object with a string 'type', not {obj!r:.80}")
    kind = obj["type"]
    try:
        if kind == "box":
            name = obj.get("dtype")
            dtype = DTYPES.get(name) if isinstance(name, str) else None
            if dtype is None or dtype.kind == "b":
                raise ProtocolError(f"box 'dtype' {name!r:.40} is not a numeric protocol dtype")
            shape = _shape(obj.get("shape"), "shape", max_dims, max_elements, minimum=0)
            native = dtype.newbyteorder("=")
            low, high = (_bounds_from_json(obj.get(k), k, shape, native) for k in ("low", "high"))
            return spaces.Box(low, high, shape=shape, dtype=native)
        if kind == "discrete":
            n = _integer(obj.get("n"), "n", 1, _INT64[1])
            start = _integer(obj.get("start", 0), "start", *_INT64)
            if start + n > _INT64[1]:
                raise ProtocolError(f"'start' + 'n' must stay below 2**63, not {start} + {n}")
            return spaces.Discrete(n, start=start)
        if kind == "multi_discrete":
            nvec = obj.get("nvec")
            if not isinstance(nvec, list) or not nvec or len(nvec) > max_elements:
                raise ProtocolError(f"'nvec' must be a list of 1 to {max_elements} integers (max_space_elements), "
                                    f"not {nvec!r:.80}")
            return spaces.MultiDiscrete([_integer(n, "nvec", 1, _INT64[1]) for n in nvec])
        if kind == "multi_binary":
            bits = obj.get("n")
            return spaces.MultiBinary(list(_shape(bits, "n", max_dims, max_elements, minimum=1))
                                      if isinstance(bits, list) else _integer(bits, "n", 1, max_elements + 1))
    except ProtocolError as e:
        raise ProtocolError(f"{what}: {e}") from None
    except (ValueError, TypeError, AssertionError, OverflowError, RecursionError, MemoryError) as e:
        raise ProtocolError(f"{what}: gymnasium rejected the {kind} space: {e}") from None
    raise ProtocolError(f"{what}: unknown space type {kind!r:.40} (box, discrete, multi_discrete, multi_binary; "
                        "dict and tuple for observations)")


def action_wire_dtype(space: Space) -> np.dtype[Any]:
    """The dtype of the ``action`` array in a ``step`` message for this action space."""
    if isinstance(space, (spaces.Discrete, spaces.MultiDiscrete)):
        return DTYPES["int64"]
    if isinstance(space, spaces.MultiBinary):
        return DTYPES["int8"]
    if isinstance(space, spaces.Box):
        return np.dtype(space.dtype).newbyteorder("<")
    raise ValueError(f"{type(space).__name__} action spaces are not part of protocol version 1")


def _integer(value: Any, key: str, low: int, high: int) -> int:
    """``value`` if it is an integer in ``[low, high)``."""
    if type(value) is not int or not low <= value < high:
        raise ProtocolError(f"'{key}' must be an integer in [{_power(low)}, {_power(high)}), not {value!r:.40}")
    return value


def _power(n: int) -> str:
    """``n`` as written in the protocol's text: ``2**63`` rather than 19 digits."""
    if abs(n) > 2**32 and abs(n) & (abs(n) - 1) == 0:
        return f"{'-' if n < 0 else ''}2**{abs(n).bit_length() - 1}"
    return str(n)


def _shape(value: Any, key: str, max_dims: int, max_elements: int, *, minimum: int) -> tuple[int, ...]:
    """A shape: at most ``max_dims`` integers, each at least ``minimum``, ``max_elements`` in all."""
    if not isinstance(value, list) or len(value) > max_dims:
        raise ProtocolError(f"'{key}' must be a list of at most {max_dims} integers (max_space_dims), "
                            f"not {value!r:.80}")
    shape = tuple(_integer(n, key, minimum, max_elements + 1) for n in value)
    elements = math.prod(shape)
    if elements > max_elements:
        raise ProtocolError(f"'{key}' {list(shape)} has {elements} elements, more than the hub's "
                            f"max_space_elements ({max_elements})")
    return shape


def _bounds_to_json(values: np.ndarray[Any, Any]) -> Any:
    def one(v: Any) -> Any:
        if isinstance(v, list):
            return [one(x) for x in v]
        if isinstance(v, float) and np.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v

    return one(values.tolist())


def _bounds_from_json(value: Any, key: str, shape: tuple[int, ...], dtype: np.dtype[Any]) -> Any:
    """A box bound: one number for every element, or nested lists of exactly ``shape``.

    The nesting is checked against ``shape`` on the way down, so it never goes deeper than the
    shape's (limited) number of dimensions.
    """
    def number(v: Any) -> float:
        if v in ("inf", "-inf"):
            return float(v)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ProtocolError(f"'{key}': a box bound must be a number, \"inf\" or \"-inf\", not {v!r:.40}")
        try:
            return float(v)
        except OverflowError:  # an integer beyond float64
            raise ProtocolError(f"'{key}': the bound {v!r:.40} is beyond float64") from None

    if not isinstance(value, list):
        return number(value)
    flat: list[float] = []

    def walk(v: Any, depth: int) -> None:
        if depth == len(shape):
            flat.append(number(v))
        elif not isinstance(v, list) or len(v) != shape[depth]:
            raise ProtocolError(f"'{key}' must be a number or nested lists of the box's shape {list(shape)}")
        else:
            for item in v:
                walk(item, depth + 1)

    walk(value, 0)
    bounds = np.array(flat, dtype=np.float64).reshape(shape)
    if dtype.kind != "f":
        return bounds
    # A float box takes its bounds in its own precision (JSON numbers are float64).
    with np.errstate(over="ignore"):
        cast = bounds.astype(dtype)
    overflow = np.isfinite(bounds) & ~np.isfinite(cast)
    if overflow.any():
        raise ProtocolError(f"'{key}': the bound {bounds[overflow][0]:g} is beyond {dtype.name}")
    return cast
