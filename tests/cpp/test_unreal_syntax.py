"""The Unreal plugin's C++ (the component, the subsystem, the sample) through g++ -fsyntax-only,
with tests/cpp/unreal_stubs standing in for the few engine headers it includes (no engine here).
This catches C++ mistakes (wrong wrapper calls, types, signatures) in code that is otherwise only
read; whether it builds inside Unreal is not tested here. The .generated.h files the Unreal
Header Tool would write are empty, and WsBridgeModule.cpp (engine file and plugin APIs) is left out."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "bindings" / "unreal" / "WsBridge" / "Source" / "WsBridge"
SOURCES = [
    PLUGIN / "Private" / "WsBridgeClient.cpp",
    PLUGIN / "Private" / "WsBridgeSubsystem.cpp",
    PLUGIN / "Private" / "WsBridgeAgentComponent.cpp",
    PLUGIN / "Private" / "WsBridgeAcademy.cpp",
    ROOT / "bindings" / "unreal" / "Samples" / "WsBridgeSampleAgent.cpp",
    ROOT / "bindings" / "unreal" / "Samples" / "WsBridgeCartPoleAgent.cpp",
]


def compile_against_stand_ins(source: Path, tmp_path: Path, headers: tuple[Path, ...] = ()) -> None:
    """g++ -fsyntax-only of `source` with the plugin's and the samples' headers (and `headers`,
    another module's) against the stand-ins; fails with the compiler's messages."""
    generated = tmp_path / "generated"
    generated.mkdir()
    for header in [*PLUGIN.rglob("*.h"), *(ROOT / "bindings" / "unreal" / "Samples").glob("*.h"), *headers]:
        text = header.read_text()
        for name in re.findall(r'#include\s+"(\w+\.generated\.h)"', text):
            # As the Header Tool's file does: GENERATED_BODY() declares Super for the class below.
            base = re.search(r"^class (?:\w+ )?\w+ : public (\w+)", text, re.M)
            # (Each file's own: a struct's GENERATED_BODY() after a class's declares nothing.)
            body = "#pragma once\n#undef GENERATED_BODY\n"
            if base:
                body += f"#define GENERATED_BODY() public: using Super = {base.group(1)}; private:\n"
            else:
                body += "#define GENERATED_BODY()\n"
            (generated / name).write_text(body)
    # WsBridgeModule.h's LogWsBridge is defined in WsBridgeModule.cpp (not compiled here).
    cmd = [
        "g++", "-std=c++20", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
        "-fno-exceptions", "-fno-rtti",
        f"-I{ROOT / 'tests' / 'cpp' / 'unreal_stubs'}", f"-I{generated}",
        f"-I{PLUGIN / 'Public'}", f"-I{PLUGIN / 'Private'}", f"-I{ROOT / 'include'}", f"-I{ROOT / 'bindings' / 'cpp'}",
        f"-I{ROOT / 'bindings' / 'unreal' / 'Samples'}", *(f"-I{h.parent}" for h in headers),
        str(source),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_plugin_source_compiles_against_stand_ins(source: Path, tmp_path: Path) -> None:
    compile_against_stand_ins(source, tmp_path)
