"""The C# seed client (examples/csharp/Client.cs) against the example trainer
(examples/python/trainer.py), run by tools/demo_seed.py exactly as `make demo` runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENT = Path(os.environ.get("WSB_BUILD_DIR", ROOT / "build")) / "csharp" / "Client.exe"


def test_seed_client_talks_to_the_trainer() -> None:
    demo = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "demo_seed.py"), f"mono {CLIENT} {{port}}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = demo.stdout + demo.stderr
    assert demo.returncode == 0, out
    received = [line for line in out.splitlines() if line.startswith("client: received ")]
    assert len(received) == 1, out
    reply = json.loads(received[0].removeprefix("client: received "))
    assert reply == {"message": "Message from Server to /env/0", "number": 256, "bool": False}
    assert "client: closed" in out
    assert '[/env/0] received {"message": "Message from Client", "number": 256, "bool": true}' in out
    assert "[/env/0] game disconnected (1000)" in out
