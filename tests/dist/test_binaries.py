"""The distributed libraries (mk/dist.mk, staged in build/dist/lib): the Linux one needs no glibc
newer than 2.17, every shared library is stripped with its debug information in a file beside
it that its .gnu_debuglink names, and the Windows DLL exports exactly the header's functions."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIBS = Path(os.environ.get("WSB_DIST_LIBS", ROOT / "build" / "dist" / "lib"))
OLDEST_GLIBC = (2, 17)
# (library, objdump that reads it)
SHARED = {
    "linux-x64/libwsbridge.so": "objdump",
    "linux-arm64/libwsbridge.so": "aarch64-linux-gnu-objdump",
    "win-x64/wsbridge.dll": "x86_64-w64-mingw32-objdump",
}


def lib(name: str) -> Path:
    path = LIBS / name
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run these tests with `make test-dist` (mk/dist.mk)")
    return path


def objdump(tool: str, *args: str) -> str:
    return subprocess.run([tool, *args], check=True, capture_output=True, text=True).stdout


def glibc_versions(text: str) -> list[tuple[int, ...]]:
    return sorted({tuple(int(p) for p in v.split(".")) for v in re.findall(r"\bGLIBC_(\d+(?:\.\d+)+)\b", text)})


def test_glibc_version_reader_sees_a_newer_requirement():
    """The reader itself: a host-built library (glibc of this machine) shows the newer versions."""
    text = "0000 DF *UND* 0000 (GLIBC_2.34) pthread_create\n0000 DF *UND* 0000 (GLIBC_2.2.5) memcpy\n"
    assert glibc_versions(text)[-1] == (2, 34)


@pytest.mark.parametrize("name", ["linux-x64/libwsbridge.so", "linux-arm64/libwsbridge.so"])
def test_linux_library_needs_no_glibc_newer_than_2_17(name):
    versions = glibc_versions(objdump(SHARED[name], "-T", str(lib(name))))
    assert versions, "no GLIBC_ symbol versions found: not a glibc-linked library?"
    newest = versions[-1]
    assert newest <= OLDEST_GLIBC, f"needs GLIBC_{'.'.join(map(str, newest))}, more than 2.17"


@pytest.mark.parametrize("name", sorted(SHARED))
def test_stripped_with_debug_information_beside(name, tmp_path):
    tool = SHARED[name]
    path = lib(name)
    sections = objdump(tool, "-h", str(path))
    assert ".debug_info" not in sections, f"{path} still has debug information"
    assert ".gnu_debuglink" in sections, f"{path} does not name its debug file"
    section, copy = tmp_path / "debuglink", tmp_path / "copy"
    objdump(tool.replace("objdump", "objcopy"), f"--dump-section=.gnu_debuglink={section}", str(path), str(copy))
    data = section.read_bytes()
    assert data.split(b"\0")[0].decode() == f"{path.name}.debug", data
    debug = path.with_name(path.name + ".debug")
    assert ".debug_info" in objdump(tool, "-h", str(debug)), f"{debug} has no debug information"
    assert path.stat().st_size < 8 * 2**20, f"{path} is {path.stat().st_size} bytes"


def test_dll_exports_exactly_the_header_functions():
    header = (ROOT / "include" / "wsbridge.h").read_text()
    declared = set(re.findall(r"^\w[\w\s\*]*?\b(wsb_\w+)\(", header, re.M))
    table = objdump("x86_64-w64-mingw32-objdump", "-p", str(lib("win-x64/wsbridge.dll")))
    exported = set(re.findall(r"^\t\[ *\d+\] (\w+)$", table.split("[Ordinal/Name Pointer] Table", 1)[1], re.M))
    assert declared and exported == declared
    definition = lib("win-x64/wsbridge.def").read_text().split()
    assert set(definition[definition.index("EXPORTS") + 1 :]) == declared
