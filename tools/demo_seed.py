"""`make demo-seed`: the example trainer on one free port, and the seed programs talking to it
through different URL paths. Prints what both sides said, then stops the trainer.

    python tools/demo_seed.py 'build/examples/client {port}' 'mono Client.exe {port}' ...
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    commands = sys.argv[1:]
    trainer = subprocess.Popen(
        [sys.executable, str(ROOT / "examples/python/trainer.py"), "--port", "0", "--stop-on-eof"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert trainer.stdout and trainer.stdin
    first = trainer.stdout.readline().split()
    if first[:2] != ["listening", "on"]:
        print(f"demo: the trainer did not start ({first})", file=sys.stderr)
        return 1
    port = first[2]
    print(f"demo: trainer listening on ws://127.0.0.1:{port} (one port for every game)\n")
    failed = False
    for command in commands:
        argv = shlex.split(command.replace("{port}", port))
        print(f"$ {' '.join(argv)}")
        proc = subprocess.run(argv, text=True, capture_output=True)
        print(proc.stdout + proc.stderr, end="")
        failed |= proc.returncode != 0
        print()
    trainer.stdin.close()
    log = trainer.stdout.read()
    trainer.wait(timeout=10)
    paths = sorted({line.split("]")[0] + "]" for line in log.splitlines() if line.startswith("[")})
    print(f"demo: the trainer saw {len(paths)} paths on port {port}: {' '.join(paths)}")
    print("demo: trainer log (first lines):")
    for line in log.splitlines()[:6]:
        print(f"  {line}")
    print("demo: " + ("FAILED" if failed else "done: the seed programs and the Python trainer talked through one port"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
