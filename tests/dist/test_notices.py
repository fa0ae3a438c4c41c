"""THIRD-PARTY-NOTICES.md is what tools/third_party_notices.py generates from Cargo.lock and the
trainer's Python dependencies now: a new crate cannot ship without its license text."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_notices_are_up_to_date():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "third_party_notices.py"), "--check"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, f"{proc.stdout}{proc.stderr}"


def test_every_linked_crate_has_a_license_text():
    text = (ROOT / "THIRD-PARTY-NOTICES.md").read_text()
    for name in ("tungstenite", "rustls", "ring", "mio", "serde_json", "webpki-roots", "windows-sys"):
        assert f"\n- {name} " in text, name
    assert text.count("```text") >= 20
