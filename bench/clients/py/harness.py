"""The workloads every Python client row runs: the worker protocol of bench/README.md.

A row is a module with ``open(url) -> conn``, ``send(conn, data)``, ``recv(conn) -> bytes`` and
``close(conn)``; it calls ``main(row)``. The workloads are the same as the C harness's
(bench/clients/c/harness.c), command for command.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from types import ModuleType

SMALL = 64


def status_field(name: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return -1


def pattern(n: int) -> bytes:
    return bytes((i * 7 + 3) & 0xFF for i in range(256)) * (n // 256) + bytes((i * 7 + 3) & 0xFF for i in range(n % 256))


class Failure(Exception):
    pass


class Harness:
    def __init__(self, row: ModuleType, ws_port: int) -> None:
        self.row = row
        self.base = f"ws://127.0.0.1:{ws_port}"

    def open(self, path: str):
        return self.row.open(self.base + path)

    def expect(self, conn, size: int, want: bytes | None = None) -> None:
        m = self.row.recv(conn)
        if len(m) != size:
            raise Failure(f"expected a {size}-byte message, got {len(m)} bytes")
        if want is not None and m != want:
            raise Failure(f"the echo of a {size}-byte message differs from what was sent")

    def rtt(self, size: int, count: int, warmup: int, maxsec: float = 1e9) -> dict:
        c = self.open("/echo")
        out = pattern(size)
        send, recv = self.row.send, self.row.recv
        for i in range(warmup):
            send(c, out)
            self.expect(c, size, out if i == 0 else None)
        samples = []
        clock = time.perf_counter_ns
        start = clock()
        limit = maxsec * 1e9
        for _ in range(count):
            t0 = clock()
            send(c, out)
            m = recv(c)
            t1 = clock()
            if len(m) != size:
                raise Failure(f"expected a {size}-byte message, got {len(m)} bytes")
            samples.append(t1 - t0)
            if t1 - start > limit:
                break
        self.row.close(c)
        return {"samples_ns": samples}

    def upload(self, size: int, count: int, maxsec: float = 1e9) -> dict:
        c = self.open("/sink")
        out = pattern(size)
        send = self.row.send
        t0 = time.perf_counter()
        sent = 0
        while sent < count:
            send(c, out)
            sent += 1
            if sent & 15 == 1 and time.perf_counter() - t0 > maxsec:
                break
        send(c, b"")
        self.expect(c, 0)
        t = time.perf_counter() - t0
        self.row.close(c)
        return {"messages": sent, "bytes": sent * size, "seconds": t, "retries": 0}

    def download(self, size: int, burst: int, maxsec: float = 1e9) -> dict:
        c = self.open(f"/source/{size}/{burst}")
        recv = self.row.recv
        got = 0
        t0 = time.perf_counter()
        while True:
            self.row.send(c, b"")
            for _ in range(burst):
                m = recv(c)
                if len(m) != size:
                    raise Failure(f"expected a {size}-byte message, got {len(m)} bytes")
            got += burst
            if time.perf_counter() - t0 >= maxsec:
                break
        t = time.perf_counter() - t0
        self.row.close(c)
        return {"messages": got, "bytes": got * size, "seconds": t}

    def round_trip_all(self, conns: list, out: bytes) -> None:
        for c in conns:
            self.row.send(c, out)
        for c in conns:
            self.expect(c, SMALL)

    def conns(self, n: int, rounds: int, maxsec: float = 1e9) -> dict:
        out = pattern(SMALL)
        t0 = time.perf_counter()
        cs = [self.open("/echo") for _ in range(n)]
        connected = time.perf_counter() - t0
        self.round_trip_all(cs, out)
        r = 0
        t1 = time.perf_counter()
        while r < rounds:
            self.round_trip_all(cs, out)
            r += 1
            if time.perf_counter() - t1 > maxsec:
                break
        t = time.perf_counter() - t1
        threads = status_field("Threads")
        for c in cs:
            self.row.close(c)
        return {"connections": n, "rounds": r, "messages": n * r, "seconds": t, "threads": threads,
                "connect_seconds": connected}

    def connect(self, count: int, maxsec: float = 1e9) -> dict:
        samples = []
        start = time.perf_counter_ns()
        for _ in range(count):
            t0 = time.perf_counter_ns()
            c = self.open("/echo")
            t1 = time.perf_counter_ns()
            samples.append(t1 - t0)
            self.row.close(c)
            if t1 - start > maxsec * 1e9:
                break
        return {"samples_ns": samples}

    def idle(self, n: int) -> dict:
        out = pattern(SMALL)
        gc.collect()
        threads0, rss0, fds0 = status_field("Threads"), status_field("VmRSS"), len(os.listdir("/proc/self/fd"))
        cs = [self.open("/echo") for _ in range(n)]
        self.round_trip_all(cs, out)
        gc.collect()
        threads1, rss1, fds1 = status_field("Threads"), status_field("VmRSS"), len(os.listdir("/proc/self/fd"))
        for c in cs:
            self.row.close(c)
        return {"connections": n, "threads_before": threads0, "threads_after": threads1,
                "rss_kb_before": rss0, "rss_kb_after": rss1, "fds_before": fds0, "fds_after": fds1}


COMMANDS = {"rtt": (int, int, int, float), "upload": (int, int, float), "download": (int, int, float),
            "conns": (int, int, float), "connect": (int, float), "idle": (int,)}


def main(row: ModuleType) -> None:
    parser = argparse.ArgumentParser(description="a benchmark client row; commands on stdin (bench/README.md)")
    parser.add_argument("--ws-port", type=int, required=True)
    parser.add_argument("--raw-port", type=int, required=True)
    args = parser.parse_args()
    h = Harness(row, args.ws_port)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        try:
            types = COMMANDS.get(words[0])
            if types is None or len(words) - 1 < len(types) - (1 if types[-1] is float else 0):
                raise Failure(f"unknown command or missing arguments: {line.strip()}")
            values = [t(float(w)) if t is int else t(w) for t, w in zip(types, words[1:])]
            result = getattr(h, words[0])(*values)
        except Exception as e:  # reported to the driver, which records the row as failed
            result = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
