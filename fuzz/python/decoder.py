"""Fuzz target for the trainer package's message decoder (``make fuzz-python``, atheris).

Feeds random bytes to everything in ``wsbridge`` that reads a game's message: ``wire.decode``,
``protocol.parse_hello`` (with the hub's default limits) and ``parse_reset_reply`` /
``parse_step_reply`` for a two-agent game. The only allowed failure is
``wsbridge.ProtocolError``; any other exception, a hang (``-timeout``) or a blow-up in memory
(``-rss_limit_mb``) is a crash that atheris reports with the input that caused it.

The first input byte picks how the rest travels (text or binary message); the corpus starts
from valid messages (written by ``--seeds DIR``), so the fuzzer mutates the real format.

    python fuzz/python/decoder.py --seeds CORPUS_DIR
    python fuzz/python/decoder.py CORPUS_DIR -max_total_time=60 [libFuzzer flags...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["wsbridge"]):
    import numpy as np

    from wsbridge.errors import ProtocolError
    from wsbridge.protocol import GameInfo, parse_hello, parse_reset_reply, parse_step_reply
    from wsbridge.spaces import space_from_json
    from wsbridge.wire import decode, encode

OBSERVATION = {"type": "box", "shape": [4], "dtype": "float32", "low": -1, "high": 1}
ACTION = {"type": "discrete", "n": 2}
GAME = GameInfo("0", "/env/0", "fuzz", 2, space_from_json(OBSERVATION, "observation_space"),
                space_from_json(ACTION, "action_space"), "127.0.0.1:1", 1)


def message(data: bytes) -> bytes | str:
    """The first byte picks the form: odd for a text message (the rest as UTF-8, invalid
    sequences replaced, as websockets would have refused them), even for a binary one."""
    if data[:1] and data[0] & 1:
        return data[1:].decode("utf-8", errors="replace")
    return data[1:]


def one_input(data: bytes) -> None:
    m = message(data)
    for parse in (decode,
                  lambda d: parse_hello(d, slot="0", path="/env/0", address="127.0.0.1:1", connection=1),
                  lambda d: parse_reset_reply(d, GAME),
                  lambda d: parse_step_reply(d, GAME)):
        try:
            parse(m)
        except ProtocolError:
            pass


def seeds() -> dict[str, bytes]:
    hello = {"type": "hello", "protocol": 1, "agents": 2, "name": "fuzz", "observation_space": OBSERVATION,
             "action_space": ACTION}
    obs = np.zeros((2, 4), np.float32)
    step = encode("step", {"infos": [{"a": [1, {"b": None}]}, {}]},
                  {"obs": obs, "reward": np.ones(2, np.float32), "terminated": np.zeros(2, bool),
                   "truncated": np.ones(2, bool)})
    as_input = {"text": lambda m: b"\x01" + m.encode(), "binary": lambda m: b"\x00" + m}
    return {
        "hello-text": as_input["text"](json.dumps(hello)),
        "hello-box-bounds": as_input["text"](json.dumps({**hello, "observation_space": {
            **OBSERVATION, "low": [-1, -2, "-inf", 0], "high": [1, 2, "inf", 1e30]}})),
        "hello-multi": as_input["text"](json.dumps({**hello, "action_space": {"type": "multi_discrete",
                                                                               "nvec": [2, 3]}})),
        "reset": as_input["binary"](encode("reset", arrays={"obs": obs})),  # type: ignore[arg-type]
        "step": as_input["binary"](step),  # type: ignore[arg-type]
        "reset-request": as_input["text"](encode("reset", {"seeds": [1, None], "options": {}})),  # type: ignore[arg-type]
    }


def main() -> None:
    if sys.argv[1:2] == ["--seeds"]:
        corpus = Path(sys.argv[2])
        corpus.mkdir(parents=True, exist_ok=True)
        for name, data in seeds().items():
            (corpus / name).write_bytes(data)
        print(f"fuzz seeds: {len(list(corpus.iterdir()))} inputs in {corpus}")
        return
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
