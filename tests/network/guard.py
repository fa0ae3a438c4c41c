"""Runs a daemon (nginx, tinyproxy) so that it behaves like the other test servers: it reports
when it is ready and stops when the test process goes away.

    guard.py [--ready TEXT] -- COMMAND...

The daemon's output is copied to this process's standard error (pytest shows it when a test
fails). Prints ``READY`` once a line of that output contains TEXT (at once without
``--ready``), or ``EXITED <status>`` with the daemon's last lines if it ends before that. When
standard input closes, the daemon gets SIGTERM (SIGKILL 10 s later); if this process is killed,
the kernel sends the daemon SIGTERM (PR_SET_PDEATHSIG). File descriptors inherited from the
caller are passed on (``--pass-fd N``), e.g. the listening socket nginx takes over.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import os
import signal
import subprocess
import sys
import threading

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ready")
    parser.add_argument("--pass-fd", type=int, action="append", default=[])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    child = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        pass_fds=args.pass_fd,
        preexec_fn=die_with_parent,
    )
    announced = threading.Event()
    tail: collections.deque[str] = collections.deque(maxlen=20)

    def announce(what: str) -> None:
        if not announced.is_set():
            announced.set()
            print(what, flush=True)

    def copy_output() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            sys.stderr.write(line)
            tail.append(line.rstrip())
            if args.ready and args.ready in line:
                announce("READY")
        status = child.wait()
        announce(f"EXITED {status}: " + " | ".join(tail))
        os._exit(status)

    if not args.ready:
        announce("READY")
    threading.Thread(target=copy_output, daemon=True).start()
    sys.stdin.read()
    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    os._exit(0)


if __name__ == "__main__":
    main()
