"""The examples of bindings/cpp/README.md (the client at the top, reconnect, the env of
wsbridge_env.hpp below) are the tested code: each is cut out of the README and compiled with g++ as the body of a
function (with the strict warnings of the wrapper's own tests), against the real headers.
`handle` and `report` are the README's placeholders for the game's code and get trivial
definitions here."""

from __future__ import annotations

import re
import subprocess

import pytest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "bindings" / "cpp" / "README.md"

PRELUDE = """
#include <array>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <utility>
static void handle(wsbridge::Kind, std::string_view) {}
static void report(const wsbridge::Error &) {}
"""


@pytest.mark.parametrize("index", [0, 1, 2], ids=["client", "reconnect", "env"])
def test_readme_example_compiles(tmp_path: Path, index: int) -> None:
    blocks = re.findall(r"```cpp\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 3, "bindings/cpp/README.md should show three C++ blocks"
    block = blocks[index]
    includes = [line for line in block.splitlines() if line.startswith("#include") or line.startswith("using namespace")]
    body = [line for line in block.splitlines() if line not in includes]
    source = tmp_path / "readme_example.cpp"
    source.write_text("\n".join(includes[:1]) + PRELUDE + "\n".join(includes[1:]) + "\nvoid example() {\n" + "\n".join(body) + "\n}\n")
    cmd = ["g++", "-std=c++17", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wconversion",
           "-fno-exceptions", "-fno-rtti", f"-I{ROOT / 'include'}", f"-I{ROOT / 'bindings' / 'cpp'}", str(source)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, source.read_text() + "\n" + proc.stderr
