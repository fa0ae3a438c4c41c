"""Message framing (docs/protocol.md, *Message framing*): encode, decode, and every refusal."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from wsbridge import ProtocolError
from wsbridge.protocol import StepEncoder, step_request
from wsbridge.wire import DTYPES, decode, encode


def binary(header: dict, payload: bytes = b"") -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<I", len(text)) + text + payload


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3, 4)])
def test_arrays_round_trip(dtype: str, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(7)
    array = (rng.random(shape) * 100).astype(dtype)
    data = encode("step", {"infos": [{}]}, {"obs": array, "flag": np.array([True, False])})
    assert isinstance(data, bytes)
    message = decode(data)
    assert message.type == "step" and message.header == {"infos": [{}]}
    assert message.arrays["obs"].dtype == np.dtype(dtype) and message.arrays["obs"].shape == shape
    np.testing.assert_array_equal(message.arrays["obs"], array)
    np.testing.assert_array_equal(message.arrays["flag"], [True, False])


def test_payload_and_arrays_are_8_byte_aligned() -> None:
    data = encode("step", arrays={"a": np.zeros(3, np.uint8), "b": np.ones(5, np.float64), "c": np.zeros(1, np.int16)})
    assert isinstance(data, bytes)
    (length,) = struct.unpack_from("<I", data)
    assert (4 + length) % 8 == 0
    header = json.loads(data[4 : 4 + length])
    assert [a["offset"] % 8 for a in header["arrays"].values()] == [0, 0, 0]


def test_big_endian_input_travels_little_endian() -> None:
    array = np.array([1.5, -2.25], dtype=">f8")
    data = encode("x", arrays={"v": array})
    assert isinstance(data, bytes)
    assert data.endswith(np.array([1.5, -2.25], dtype="<f8").tobytes())
    np.testing.assert_array_equal(decode(data).arrays["v"], array)


def test_an_image_batch_is_a_small_header_and_raw_bytes() -> None:
    frames = np.random.default_rng(1).integers(0, 256, (16, 84, 84, 3), dtype=np.uint8)
    data = encode("step", arrays={"obs": frames})
    assert isinstance(data, bytes)
    assert len(data) - frames.nbytes < 128
    np.testing.assert_array_equal(decode(data).arrays["obs"], frames)


def test_a_message_without_arrays_is_text() -> None:
    data = encode("reset", {"seeds": [1, None], "options": {}})
    assert isinstance(data, str)
    message = decode(data)
    assert (message.type, message.header, message.arrays) == ("reset", {"seeds": [1, None], "options": {}}, {})
    assert decode(binary({"type": "reset", "seeds": [3]})).header == {"seeds": [3]}


def test_unsupported_dtype_is_refused_when_encoding() -> None:
    with pytest.raises(ValueError, match="complex128 cannot travel"):
        encode("x", arrays={"z": np.zeros(2, np.complex128)})


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x01\x00", "too short for its 4-byte header length"),
        (struct.pack("<I", 50) + b"{}", "the header length says 50 bytes but the message has 2"),
        (struct.pack("<I", 3) + b"{x}", "the header is not valid JSON"),
        (struct.pack("<I", 2) + b"\xff\xfe", "the header is not UTF-8"),
        ("[1, 2]", "the header must be a JSON object, not list"),
        ('{"kind": "step"}', "the header has no string 'type'"),
        ('{"type": "step", "arrays": {}}', "a text message cannot carry arrays"),
        (binary({"type": "s", "arrays": []}), "header key 'arrays' must be an object"),
        (binary({"type": "s", "arrays": {"o": 3}}), "array 'o': its description must be an object"),
        (binary({"type": "s", "arrays": {"o": {"dtype": "float16", "shape": [1], "offset": 0}}}, b"\0" * 8),
         "array 'o': dtype 'float16' is not one of bool"),
        (binary({"type": "s", "arrays": {"o": {"dtype": "uint8", "shape": [-1], "offset": 0}}}),
         "array 'o': shape must hold integers in [0, 2**32), not [-1]"),
        # What a game may declare is bounded before numpy sees it (issue 12).
        (binary({"type": "s", "arrays": {"o": {"dtype": "uint8", "shape": [0, 2**31, 2**31, 2**31], "offset": 0}}}),
         "array 'o': shape [0, 2147483648, 2147483648, 2147483648] describes more than 2**63 bytes"),
        (binary({"type": "s", "arrays": {"o": {"dtype": "uint8", "shape": [1] * 33, "offset": 0}}}, b"\0" * 8),
         "array 'o': shape must be a list of at most 32 integers"),
        (binary({"type": "s", "arrays": {"o": {"dtype": {"d": 1}, "shape": [1], "offset": 0}}}, b"\0" * 8),
         "array 'o': dtype {'d': 1} is not one of bool"),  # found by make fuzz-python
        ('{"type": "s", "x": ' + "[" * 5000 + "]" * 5000 + "}", "the header is nested too deeply"),
        ('{"type": "s", "x": ' + "9" * 5000 + "}", "the header is not valid JSON (Exceeds the limit"),
        (binary({"type": "s", "arrays": {"o": {"dtype": "uint8", "shape": [1], "offset": 1.5}}}),
         "array 'o': offset must be a non-negative integer"),
        (binary({"type": "s", "arrays": {"o": {"dtype": "float32", "shape": [2, 4], "offset": 8}}}, b"\0" * 32),
         "array 'o': float32[2, 4] at offset 8 needs 40 payload bytes, the payload has 32"),
        (binary({"type": "s", "arrays": {"a": {"dtype": "uint8", "shape": [8], "offset": 0},
                                         "b": {"dtype": "uint8", "shape": [4], "offset": 4}}}, b"\0" * 8),
         "arrays 'a' and 'b' overlap in the payload"),
    ],
)
def test_malformed_messages_are_refused_with_the_facts(data: bytes | str, message: str) -> None:
    with pytest.raises(ProtocolError) as e:
        decode(data)
    assert message in str(e.value)


@pytest.mark.parametrize("same_step", [False, True])
@pytest.mark.parametrize("dtype, shape", [("int64", ()), ("float32", (3,)), ("uint8", (2, 5))])
def test_the_step_encoder_writes_what_step_request_writes(same_step: bool, dtype: str, shape: tuple[int, ...]) -> None:
    """The step path encodes all games at once (protocol.StepEncoder); each message is byte for
    byte the one step_request builds for that game alone, whatever its number of agents."""
    rng = np.random.default_rng(0)
    agents = [1, 3, 16, 1, 7]
    bounds = np.cumsum([0, *agents])
    rows = [slice(int(a), int(b)) for a, b in zip(bounds, bounds[1:])]
    actions = (rng.random((int(bounds[-1]), *shape)) * 100).astype(dtype)
    reset = rng.random(int(bounds[-1])) < 0.3
    encoder = StepEncoder(np.dtype(dtype), shape, same_step)
    for _ in range(2):  # the second time from the headers it keeps
        got = encoder.encode(actions, reset, rows)
        assert got == [step_request(actions[r], reset[r], np.dtype(dtype), same_step) for r in rows]
