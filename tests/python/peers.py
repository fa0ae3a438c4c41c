"""Scripted protocol peers built on the real ``websockets`` client, for what the C game never does
on purpose: break the protocol, stay silent, hold a slot."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from wsbridge.wire import decode, encode

HELLO: dict[str, Any] = {
    "type": "hello", "protocol": 1, "name": "scripted", "agents": 1,
    "observation_space": {"type": "box", "shape": [4], "dtype": "float32", "low": -1, "high": 1},
    "action_space": {"type": "discrete", "n": 2},
}


def hello(**changes: Any) -> str:
    return json.dumps({**HELLO, **changes})


def closed_with(ws: ClientConnection) -> tuple[int | None, str | None]:
    """Reads until the hub closes the connection; returns its close code and reason."""
    try:
        while True:
            ws.recv(timeout=30)
    except ConnectionClosed as e:
        assert e.rcvd is not None, f"the connection ended without a close frame ({e})"
        return e.rcvd.code, e.rcvd.reason


def refusal(url: str, *messages: str | bytes, **kwargs: Any) -> tuple[int | None, str | None]:
    """Connects, sends ``messages``, returns how the hub closed the connection."""
    with connect(url, **kwargs) as ws:
        try:
            for m in messages:
                ws.send(m)
        except ConnectionClosed:
            pass  # the hub was quicker: closed_with reads why
        return closed_with(ws)


class ScriptedGame:
    """A game on its own thread: says hello, then answers each request with ``answer(message)``
    (``None`` to stay silent). ``close_code``/``close_reason`` tell how the hub ended it."""

    def __init__(self, url: str, answer: Callable[[Any], bytes | str | None], *,
                 ping_interval: float | None = None, ping_timeout: float | None = None,
                 **hello_changes: Any) -> None:
        # closed by close(), or by the hub
        self.ws = connect(url, legacy=True, ping_interval=ping_interval, ping_timeout=ping_timeout)
        self.ws.send(hello(**hello_changes))
        self.answer = answer
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for data in self.ws:
                reply = self.answer(decode(data))
                if reply is not None:
                    self.ws.send(reply)
        except ConnectionClosed:
            pass
        if self.ws.close_code is not None:
            self.close_code, self.close_reason = self.ws.close_code, self.ws.close_reason

    def ended(self) -> tuple[int | None, str | None]:
        self.thread.join(timeout=30)
        return self.close_code, self.close_reason

    def close(self) -> None:
        self.ws.close()
        self.thread.join(timeout=30)


def obs_reply(kind: str, obs: np.ndarray) -> bytes | str:
    """A reset or step answer for one agent with this observation array."""
    arrays = {"obs": obs}
    if kind == "step":
        arrays |= {"reward": np.zeros(1, np.float32), "terminated": np.zeros(1, bool),
                   "truncated": np.zeros(1, bool)}
    return encode(kind, arrays=arrays)
