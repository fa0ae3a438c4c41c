"""The trainer side of the end-to-end workload: a vector env over G games, one port.

    python trainer.py --transport ws|tcp --games G --seconds T [--action-bytes A]

Prints ``PORT <n>`` once listening, waits for the G games (bench/e2e/game.c) to connect to
``/env/0`` ... ``/env/{G-1}`` and say hello, then steps them in lockstep for T seconds: every
step sends one action to every game and waits for every observation, like
``gymnasium.vector.VectorEnv.step``. Prints one JSON line (env steps/s, vector step round trip
percentiles), tells the games to stop (an empty message) and exits. Exits early if its standard
input closes.

The structure is the one the trainer package (bindings/python) is specified with: the network
runs on an asyncio event loop in its own thread, and the training loop on the main thread calls
``step`` across threads. Both transports share everything but the framing:

- ``ws``: a `websockets` asyncio server (compression off), the game's path from the URL;
- ``tcp``: asyncio streams with a 4-byte big-endian length before each message, the game's path
  as its first message: the raw TCP style of Godot RL Agents and RLlib's external env protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import struct
import sys
import threading

from timing import summary, timed_steps

LENGTH = struct.Struct(">I")


class Games:
    """The games of one run, filled in by whichever transport accepts them."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.conns: dict[int, object] = {}
        self.all_here = asyncio.Event()

    def joined(self, path: str, conn: object) -> None:
        gid = int(path.rsplit("/", 1)[-1])
        self.conns[gid] = conn
        if len(self.conns) == self.count:
            self.all_here.set()

    def ordered(self) -> list:
        return [self.conns[i] for i in range(self.count)]


class WsTransport:
    def __init__(self, games: Games) -> None:
        self.games = games

    async def listen(self) -> int:
        from websockets.asyncio.server import serve

        async def handler(ws) -> None:
            await ws.recv()  # hello
            self.games.joined(ws.request.path, ws)
            await ws.wait_closed()

        self.server = await serve(handler, "127.0.0.1", 0, compression=None, max_size=64 << 20)
        return self.server.sockets[0].getsockname()[1]

    async def step(self, conns: list, actions: list[bytes]) -> list[bytes]:
        for ws, a in zip(conns, actions):
            await ws.send(a)
        return await asyncio.gather(*(ws.recv() for ws in conns))

    async def stop(self, conns: list) -> None:
        for ws in conns:
            await ws.send(b"")
        self.server.close()


class TcpTransport:
    def __init__(self, games: Games) -> None:
        self.games = games

    @staticmethod
    async def read(reader: asyncio.StreamReader) -> bytes:
        (n,) = LENGTH.unpack(await reader.readexactly(4))
        return await reader.readexactly(n)

    async def listen(self) -> int:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            path = (await self.read(reader)).decode()
            await self.read(reader)  # hello
            self.games.joined(path, (reader, writer))

        # asyncio sets TCP_NODELAY on every TCP connection, as websockets' server does.
        self.server = await asyncio.start_server(handler, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def step(self, conns: list, actions: list[bytes]) -> list[bytes]:
        for (_, writer), a in zip(conns, actions):
            writer.write(LENGTH.pack(len(a)) + a)
        return await asyncio.gather(*(self.read(reader) for reader, _ in conns))

    async def stop(self, conns: list) -> None:
        for _, writer in conns:
            writer.write(LENGTH.pack(0))
            await writer.drain()
            writer.close()
        self.server.close()


TRANSPORTS = {"ws": WsTransport, "tcp": TcpTransport}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=sorted(TRANSPORTS), required=True)
    parser.add_argument("--games", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--warmup", type=int, default=50, help="steps before timing")
    parser.add_argument("--action-bytes", type=int, default=32)
    parser.add_argument("--agents", type=int, default=1,
                        help="agents per game, for the count of env steps (the messages carry them all)")
    args = parser.parse_args()

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="network", daemon=True).start()
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(1)), daemon=True).start()

    def call(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    async def make() -> tuple[Games, object, int]:
        games = Games(args.games)
        transport = TRANSPORTS[args.transport](games)
        return games, transport, await transport.listen()

    games, transport, port = call(make())
    print(f"PORT {port}", flush=True)
    call(asyncio.wait_for(games.all_here.wait(), 60))
    conns = games.ordered()
    actions = [bytes([i % 7]) * args.action_bytes for i in range(args.games)]
    observation_bytes = []

    def step() -> None:
        observations = call(transport.step(conns, actions))
        if len(observations) != args.games:
            raise SystemExit(f"expected {args.games} observations, got {len(observations)}")
        if not observation_bytes:
            observation_bytes.append(len(observations[0]))

    samples, elapsed = timed_steps(step, args.warmup, args.seconds)
    call(transport.stop(conns))
    result = summary(args.transport, args.games, args.games * args.agents, samples, elapsed)
    result.update(action_bytes=args.action_bytes, observation_bytes=observation_bytes[0])
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
