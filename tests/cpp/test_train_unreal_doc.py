"""docs/train-unreal.md is the tested code: its C++ block (the code-first agent) is cut out of the
page, saved as the header it says it is (MyAgent.h), and compiled with the plugin's headers against
the engine stand-ins, as tests/cpp/test_unreal_syntax.py does for the plugin itself; its Python
block runs against a real game."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

from cpp_build import CPP_BUILD, built
from test_unreal_syntax import ROOT, compile_against_stand_ins

PAGE = ROOT / "docs" / "train-unreal.md"
CARTPOLE = CPP_BUILD / "examples" / "cartpole"


def test_the_code_first_agent_of_the_page_compiles(tmp_path: Path) -> None:
    blocks = re.findall(r"```cpp\n(.*?)```", PAGE.read_text(), re.S)
    assert len(blocks) == 1, "docs/train-unreal.md should show one C++ block"
    assert blocks[0].startswith("// MyAgent.h")
    module = tmp_path / "module"
    module.mkdir()
    header = module / "MyAgent.h"
    header.write_text(blocks[0])
    source = module / "MyAgent.cpp"
    source.write_text('#include "MyAgent.h"\n\nstatic UMyAgent* Made = nullptr;\n')
    compile_against_stand_ins(source, tmp_path, (header,))


def test_the_python_side_of_the_page_trains_a_game(tmp_path: Path) -> None:
    """The page's ten Python lines, run as they are against the C++ cart-pole (a game that
    speaks the same protocol as the plugin), on a free port instead of 8001. The game starts
    first: the library retries the connection until the hub is up, as a game started before
    its trainer does."""
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    assert len(blocks) == 1 and len(blocks[0].strip().splitlines()) <= 10, blocks
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = blocks[0].replace("port=8001", f"port={port}")
    assert code != blocks[0], "the page's Hub no longer uses port=8001"
    game = subprocess.Popen([str(built(CARTPOLE)), f"ws://127.0.0.1:{port}", "0", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        namespace: dict[str, object] = {}
        exec(compile(code, str(PAGE), "exec"), namespace)  # the `with` closes the hub: 1000
        out, err = game.communicate(timeout=30)
    finally:
        if game.poll() is None:
            game.kill()
            game.communicate()
    assert game.returncode == 0, err
    assert namespace["obs"].shape == (1, 4)  # type: ignore[attr-defined]
