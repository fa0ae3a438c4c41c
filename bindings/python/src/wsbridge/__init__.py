"""wsbridge for trainers: many games on one WebSocket port, as gymnasium environments.

Games (built with the wsbridge C library, or anything that speaks ``docs/protocol.md``)
connect to ``ws://HOST:PORT/env/{id}``; a :class:`Hub` serves them all on one port, and
:class:`RemoteVectorEnv` (every agent of every game) or :class:`RemoteEnv` (one game, one
agent) present them to a training loop::

    import wsbridge

    with wsbridge.Hub(games=8, port=8001) as hub:
        env = wsbridge.RemoteVectorEnv(hub)        # waits for /env/0 ... /env/7
        obs, info = env.reset(seed=0)
        for _ in range(1000):
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
"""

from .errors import GameLostError, ProtocolError, ReplyTimeoutError
from .hub import Hub, Request
from .lockstep import CONNECT_TIMEOUT, ERROR_INFO, LOST_INFO, RECONNECTED_INFO
from .protocol import PROTOCOL_VERSION, CloseCode, GameInfo
from .env import RemoteEnv
from .vector import RemoteVectorEnv
from .launcher import Launcher, make_hub, make_vector_env

__version__ = "0.1.0"

__all__ = [
    "CONNECT_TIMEOUT",
    "ERROR_INFO",
    "LOST_INFO",
    "Launcher",
    "make_hub",
    "make_vector_env",
    "PROTOCOL_VERSION",
    "RECONNECTED_INFO",
    "CloseCode",
    "GameInfo",
    "GameLostError",
    "Hub",
    "ProtocolError",
    "RemoteEnv",
    "RemoteVectorEnv",
    "ReplyTimeoutError",
    "Request",
]
