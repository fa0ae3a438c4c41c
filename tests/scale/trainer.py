"""A trainer hub for `make test-scale` (tests/scale/run.py): a ``wsbridge.Hub`` whose slots are
stepped independently, each as fast as its game answers, and every request and answer logged.

    trainer.py --index K [--run R] --slots N [--port P] --log FILE [--token T]
               [--lobby URL --advertise URL [--lobby-token T]]

Prints ``PORT <n>`` once listening on 127.0.0.1, then ``STAT`` lines every second (answers
accepted and requests sent so far; ``active``: the games with an answer accepted since the last
line; ``games``: the games connected). When standard input closes it stops sending requests,
waits for the answers in flight, closes the hub (the games get 1000), prints ``DONE`` and exits.

Each slot runs its own loop on the hub: wait for a game to connect to the slot, ``reset`` it,
then ``step`` it with random pushes until its connection goes; a step request names its request
number ``q`` (the second component of the game's multi_discrete action, or reset option "q"),
and the game echoes it with its own answer number ``s`` in its info (tests/scale/multigame.c).
An answer is accepted only if it echoes the request it answers. The log has one line per event,
written straight to the file (a killed trainer loses none of what it accepted):

    R <game> <q>            request q sent to <game>
    A <game> <s> <q>        answer number s accepted for request q
    X <game> <q> <time>     request q got no answer: the game's connection went first
    G <game> <slot> <connection> <time>   a game connected to a slot
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import os
import queue
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import wsbridge
from wsbridge import ProtocolError
from wsbridge.protocol import GameInfo, parse_reset_reply, parse_step_reply, reset_request, step_request

STAT_PERIOD = 1.0
DRAIN_TIMEOUT = 15.0
STOP = "stop"  # the event standard input's end puts on the queue


@dataclass
class Slot:
    id: str
    game: GameInfo | None = None
    q: int = -1  # the request in flight, -1 when waiting for a connection
    kind: str = "wait"  # what is in flight: "wait" (for a game), "reset" or "step"
    done: bool = True  # the episode ended: the next step resets the cart
    future: concurrent.futures.Future[Any] | None = field(default=None, repr=False)


class Trainer:
    def __init__(self, args: argparse.Namespace) -> None:
        extra: dict[str, Any] = {}
        if args.lobby:
            extra = {"lobby": args.lobby, "advertise": args.advertise, "lobby_token": args.lobby_token,
                     "hub_id": f"hub{args.index}"}
        self.hub = wsbridge.Hub(games=args.slots, port=args.port, token=args.token, ping_interval=5.0, ping_timeout=10.0,
                                reconnect_timeout=None, reply_timeout=60.0, **extra)
        self.log = os.open(args.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.events: queue.SimpleQueue[tuple[Slot, concurrent.futures.Future[Any]] | str] = queue.SimpleQueue()
        self.slots = [Slot(s) for s in self.hub.slots]
        # Request numbers unique across trainers and their restarts (below 2**40, the action's bound).
        self.next_q = (args.index * 100 + args.run) * 10**9
        self.rng = random.Random(args.index)
        self.stopping = False
        self.accepted = self.sent = self.cut = self.rejected = 0
        self.active: set[str] = set()  # slots with an answer accepted since the last STAT
        self.waiters = concurrent.futures.ThreadPoolExecutor(64, thread_name_prefix="wait")

    def write(self, text: str) -> None:
        os.write(self.log, text.encode())

    def send(self, slot: Slot, payload: bytes | str, kind: str, connection: int) -> None:
        slot.kind = kind
        future = self.hub.send([wsbridge.Request(slot.id, connection, payload)], reconnect_timeout=None)
        slot.future = future
        future.add_done_callback(functools.partial(self.done, slot))

    def done(self, slot: Slot, future: concurrent.futures.Future[Any]) -> None:
        self.events.put((slot, future))

    def wait_for_game(self, slot: Slot) -> None:
        """Resolves with the slot's next connection (a game newer than the slot's last one)."""
        slot.q, slot.kind = -1, "wait"
        if slot.game is None:  # the hub's first connection is number 1: nothing is sent
            self.send(slot, b"", "wait", 0)
            return
        # After an error on a connection that may still be open: wait off the hub's loop.
        newer_than = slot.game.connection
        future = self.waiters.submit(lambda: [self.hub.wait_for_connection(slot.id, newer_than=newer_than)])
        slot.future = future
        future.add_done_callback(functools.partial(self.done, slot))

    def request(self, slot: Slot, kind: str) -> None:
        assert slot.game is not None
        q = slot.q = self.next_q
        self.next_q += 1
        if kind == "reset":
            payload = reset_request([None], {"q": q})
        else:
            action = np.array([[self.rng.randrange(2), q]], dtype=np.int64)
            payload = step_request(action, np.array([slot.done]), np.dtype(np.int64))
        self.sent += 1
        self.write(f"R {slot.game.name} {q}\n")
        self.send(slot, payload, kind, slot.game.connection)

    def handle(self, slot: Slot, future: concurrent.futures.Future[Any]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            print(f"slot {slot.id}: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            if slot.kind != "wait" and slot.game is not None:
                self.cut += 1
                self.write(f"X {slot.game.name} {slot.q} {time.time():.6f}\n")
            return self.wait_for_game(slot)
        (result,) = future.result()
        if isinstance(result, GameInfo):  # a new connection (the request, if any, was not answered)
            if slot.kind != "wait" and slot.game is not None:
                self.cut += 1
                self.write(f"X {slot.game.name} {slot.q} {time.time():.6f}\n")
            slot.game, slot.done = result, True
            self.write(f"G {result.name} {slot.id} {result.connection} {time.time():.6f}\n")
            if self.stopping:
                slot.kind = "wait"
            else:
                self.request(slot, "reset")
            return
        assert slot.game is not None
        game = slot.game
        try:
            if slot.kind == "reset":
                _, infos = parse_reset_reply(result, game)
                slot.done = False
            else:
                reply = parse_step_reply(result, game)
                infos = reply.infos
                slot.done = bool(reply.terminated[0] or reply.truncated[0])
            info = infos[0]
            if info.get("q") != slot.q or not isinstance(info.get("s"), int):
                raise ProtocolError(f"answered {info} to request {slot.q}")
        except ProtocolError as e:
            self.rejected += 1
            print(f"REJECTED {game.name}: {e}", file=sys.stderr, flush=True)
            self.hub.kick(slot.id, 4400, str(e))
            return self.wait_for_game(slot)
        self.accepted += 1
        self.active.add(slot.id)
        self.write(f"A {game.name} {info['s']} {slot.q}\n")
        if self.stopping:
            slot.kind, slot.future = "wait", None
            return
        self.request(slot, "step")

    def stat(self) -> None:
        print(f"STAT t={time.time():.3f} accepted={self.accepted} sent={self.sent} active={len(self.active)} "
              f"games={len(self.hub.games())} cut={self.cut} rejected={self.rejected}"
              f"{f' registered={int(self.hub.lobby_registered)}' if self.hub.lobby else ''}", flush=True)
        self.active.clear()

    def run(self) -> None:
        with self.hub:
            print(f"PORT {self.hub.port}", flush=True)

            def watch_stdin() -> None:
                sys.stdin.read()
                self.events.put(STOP)

            threading.Thread(target=watch_stdin, daemon=True).start()
            for slot in self.slots:
                self.wait_for_game(slot)
            tick = time.monotonic() + STAT_PERIOD
            while True:
                try:
                    event = self.events.get(timeout=max(0.0, tick - time.monotonic()))
                except queue.Empty:
                    event = None
                if time.monotonic() >= tick:
                    self.stat()
                    tick = time.monotonic() + STAT_PERIOD
                if event == STOP:
                    break
                if isinstance(event, tuple):
                    self.handle(*event)
            # Stop: no new requests; the answers in flight are waited for, then the hub closes.
            self.stopping = True
            deadline = time.monotonic() + DRAIN_TIMEOUT
            while any(s.kind in ("reset", "step") for s in self.slots) and time.monotonic() < deadline:
                try:
                    event = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if isinstance(event, tuple):
                    self.handle(*event)
            self.stat()
        self.waiters.shutdown(wait=False, cancel_futures=True)
        print(f"DONE accepted={self.accepted} sent={self.sent} cut={self.cut} rejected={self.rejected}", flush=True)
        os._exit(0)  # threads still waiting for a connection (error paths) are not joined


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=int, required=True, help="0 to 9")
    parser.add_argument("--run", type=int, default=1, help="1 to 99: how many times this trainer has started")
    parser.add_argument("--slots", type=int, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", required=True)
    parser.add_argument("--token")
    parser.add_argument("--lobby")
    parser.add_argument("--advertise")
    parser.add_argument("--lobby-token")
    Trainer(parser.parse_args()).run()


if __name__ == "__main__":
    main()
