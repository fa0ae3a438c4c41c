from __future__ import annotations

import sys
from pathlib import Path

# The test servers (tests/servers/launch.py, wsserver.py) and this folder's helpers.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
