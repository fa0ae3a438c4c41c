"""Message framing: a JSON header and named little-endian arrays in one WebSocket message.

A binary message is ``uint32 LE header length | JSON header | payload``; the header's ``arrays``
object gives each array's ``dtype``, ``shape`` and byte ``offset`` in the payload. A text message
is a header alone. See ``docs/protocol.md``, section *Message framing*.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import ProtocolError

__all__ = ["DTYPES", "MAX_ARRAYS", "MAX_DIMENSION", "MAX_DIMS", "Message", "decode", "encode"]

#: The dtypes the protocol allows, by wire name. Always little-endian.
DTYPES: Mapping[str, np.dtype[Any]] = {
    name: np.dtype(name).newbyteorder("<")
    for name in (
        "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
        "float32", "float64",
    )
}

#: The wire name of each little-endian dtype (normalize a dtype with ``newbyteorder("<")``).
_NAMES: Mapping[np.dtype[Any], str] = {dtype: name for name, dtype in DTYPES.items()}

#: Protocol limits on what a message may declare, checked before anything is allocated from it.
#: At most this many arrays in one message.
MAX_ARRAYS = 64
#: At most this many dimensions in one array's shape (numpy's own limit is 64).
MAX_DIMS = 32
#: Each dimension of a shape is below this (only an empty array could declare more).
MAX_DIMENSION = 2**32

_ALIGN = 8
_LENGTH = struct.Struct("<I")


@dataclass(frozen=True)
class Message:
    """One decoded protocol message.

    ``header`` holds every header key except ``type`` and ``arrays``. ``arrays`` are read-only
    views on the received bytes: copy what you keep.
    """

    type: str
    header: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, NDArray[Any]] = field(default_factory=dict)


def wire_dtype_name(dtype: np.dtype[Any]) -> str:
    """The protocol's name for a numpy dtype, or ``ValueError`` if the protocol has none."""
    dtype = np.dtype(dtype)
    name = _NAMES.get(dtype.newbyteorder("<"))  # a table, not dtype.name: this runs on every send
    if name is None:
        raise ValueError(f"dtype {dtype.name} cannot travel in a wsbridge message (allowed: {', '.join(DTYPES)})")
    return name


def _pad(n: int) -> int:
    return -n % _ALIGN


def encode(type_: str, fields: Mapping[str, Any] | None = None,
           arrays: Mapping[str, NDArray[Any]] | None = None) -> bytes | str:
    """Builds a message: text when there are no arrays, binary otherwise.

    Arrays are converted to little-endian C order; every array and the payload start on an
    8-byte boundary.
    """
    header: dict[str, Any] = {"type": type_, **(fields or {})}
    if not arrays:
        return json.dumps(header, separators=(",", ":"), allow_nan=False)
    chunks: list[bytes] = []
    descriptions: dict[str, dict[str, Any]] = {}
    offset = 0
    for name, array in arrays.items():
        wire = wire_dtype_name(array.dtype)
        data = np.ascontiguousarray(array, dtype=DTYPES[wire]).tobytes()
        data += bytes(_pad(len(data)))
        descriptions[name] = {"dtype": wire, "shape": list(array.shape), "offset": offset}
        chunks.append(data)
        offset += len(data)
    header["arrays"] = descriptions
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    text += b" " * _pad(_LENGTH.size + len(text))
    return b"".join([_LENGTH.pack(len(text)), text, *chunks])


def decode(data: bytes | str) -> Message:
    """Parses and validates a message; raises :class:`ProtocolError` saying what is wrong."""
    if isinstance(data, str):
        header = _parse_header(data)
        if "arrays" in header:
            raise ProtocolError("a text message cannot carry arrays (send arrays in a binary message)")
        return Message(header.pop("type"), header)
    if len(data) < _LENGTH.size:
        raise ProtocolError(f"a binary message of {len(data)} bytes is too short for its 4-byte header length")
    (length,) = _LENGTH.unpack_from(data)
    start = _LENGTH.size + length
    if start > len(data):
        raise ProtocolError(f"the header length says {length} bytes but the message has {len(data) - 4} after it")
    try:
        header = _parse_header(data[_LENGTH.size:start].decode())
    except UnicodeDecodeError as e:
        raise ProtocolError(f"the header is not UTF-8 ({e})") from None
    described = header.pop("arrays", {})
    if not isinstance(described, dict):
        raise ProtocolError(f"header key 'arrays' must be an object, not {type(described).__name__}")
    if len(described) > MAX_ARRAYS:
        raise ProtocolError(f"header key 'arrays' lists {len(described)} arrays, at most {MAX_ARRAYS} are allowed")
    arrays = {}
    extents = []
    for name, spec in described.items():
        array, extent = _array(data, start, name, spec)
        arrays[name] = array
        extents.append((*extent, name))
    extents.sort()
    for (_, end, first), (begin, _, second) in zip(extents, extents[1:]):
        if begin < end:
            raise ProtocolError(f"arrays {first!r} and {second!r} overlap in the payload")
    return Message(header.pop("type"), header, arrays)


def _parse_header(text: str) -> dict[str, Any]:
    try:
        header = json.loads(text)
    except ValueError as e:
        raise ProtocolError(f"the header is not valid JSON ({e}): {text[:60]!r}") from None
    except RecursionError:  # the C scanner counts its depth against the recursion limit
        raise ProtocolError(f"the header is nested too deeply: {text[:60]!r}") from None
    if not isinstance(header, dict):
        raise ProtocolError(f"the header must be a JSON object, not {type(header).__name__}")
    if not isinstance(header.get("type"), str):
        raise ProtocolError(f"the header has no string 'type': {text[:60]!r}")
    return header


def _array(data: bytes, start: int, name: str, spec: Any) -> tuple[NDArray[Any], tuple[int, int]]:
    where = f"array {name!r}"
    if not isinstance(spec, dict):
        raise ProtocolError(f"{where}: its description must be an object")
    wire_name = spec.get("dtype")
    dtype = DTYPES.get(wire_name) if isinstance(wire_name, str) else None
    if dtype is None:
        raise ProtocolError(f"{where}: dtype {wire_name!r:.40} is not one of {', '.join(DTYPES)}")
    shape, offset = spec.get("shape"), spec.get("offset")
    if not isinstance(shape, list) or len(shape) > MAX_DIMS:
        raise ProtocolError(f"{where}: shape must be a list of at most {MAX_DIMS} integers, not {shape!r:.80}")
    if not all(type(n) is int and 0 <= n < MAX_DIMENSION for n in shape):
        raise ProtocolError(f"{where}: shape must hold integers in [0, 2**32), not {shape!r:.80}")
    if type(offset) is not int or offset < 0:
        raise ProtocolError(f"{where}: offset must be a non-negative integer, not {offset!r}")
    if math.prod(n for n in shape if n) * dtype.itemsize >= 2**63:  # numpy's limit, even when empty
        raise ProtocolError(f"{where}: shape {shape} describes more than 2**63 bytes")
    count = math.prod(shape)
    begin, end = start + offset, start + offset + count * dtype.itemsize
    if end > len(data):
        raise ProtocolError(
            f"{where}: {dtype.name}{shape} at offset {offset} needs {end - start} payload bytes, "
            f"the payload has {len(data) - start}"
        )
    array = np.frombuffer(data, dtype=dtype, count=count, offset=begin).reshape(shape)
    return array, (offset, offset + count * dtype.itemsize)
