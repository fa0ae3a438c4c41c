"""`make install` into temporary prefixes, then the seed clients built the way users build them,
run against the example trainer (examples/python/trainer.py):

- C (examples/c/client.c) with `pkg-config --cflags --libs wsbridge`, shared and static;
- C++ (examples/cpp, a CMake project) with `find_package(wsbridge)`, shared and static;
- a DESTDIR-staged tree used in place (relocatable CMake package, pkg-config sysroot).

Needs cmake and pkg-config (Debian packages cmake and pkgconf; `make test-cpp` installs them).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cpp_build import ROOT, make

EXAMPLE_CPP = ROOT / "examples" / "cpp"
EXAMPLE_C = ROOT / "examples" / "c" / "client.c"
VERSION_PROJECT = Path(__file__).resolve().parent / "cmake_version"
INSTALLED = {
    "include/wsbridge.h",
    "include/wsbridge.hpp",
    "lib/libwsbridge.so",
    "lib/libwsbridge.a",
    "lib/pkgconfig/wsbridge.pc",
    "lib/pkgconfig/wsbridge-static.pc",
    "lib/cmake/wsbridge/wsbridge-config.cmake",
    "lib/cmake/wsbridge/wsbridge-config-version.cmake",
}
STRICT_C = ["-std=c11", "-Wall", "-Wextra", "-Werror"]
STRICT_CXX = "-Wall -Wextra -Werror -fno-exceptions -fno-rtti"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"`{name}` is not installed: run the tests with `make test-cpp`, which installs it")
    return path


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=300, **kwargs)
    assert proc.returncode == 0, f"$ {shlex.join(map(str, argv))}\n{proc.stdout}{proc.stderr}"
    return proc


def make_ok(*args: str) -> None:
    proc = make(*args)
    assert proc.returncode == 0, f"$ make {' '.join(args)}\n{proc.stdout}{proc.stderr}"


def native_libs() -> list[str]:
    """NATIVE_LIBS of the top-level Makefile: what a static link of the library needs."""
    match = re.search(r"^NATIVE_LIBS\s*:?=\s*(.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert match, "NATIVE_LIBS is not defined in the Makefile"
    return match.group(1).split()


def header_version() -> str:
    """The version the WSB_VERSION_* macros of include/wsbridge.h state."""
    header = (ROOT / "include" / "wsbridge.h").read_text()
    parts = [re.search(rf"^#define WSB_VERSION_{p} (\d+)$", header, re.M) for p in ("MAJOR", "MINOR", "PATCH")]
    assert all(parts), "WSB_VERSION_* macros not found in include/wsbridge.h"
    return ".".join(m.group(1) for m in parts if m)


def needed(binary: Path) -> list[str]:
    out = run([tool("readelf"), "-d", binary]).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def pkg_config(prefix: Path, *args: str, sysroot: Path | None = None) -> list[str]:
    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    if sysroot is not None:
        env["PKG_CONFIG_SYSROOT_DIR"] = str(sysroot)
    return shlex.split(run([tool("pkg-config"), *args], env=env).stdout)


def cmake_build(source: Path, build: Path, prefix: Path, *options: str) -> Path:
    run([tool("cmake"), "-S", source, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}",
         f"-DCMAKE_CXX_FLAGS={STRICT_CXX}", *options])
    run([tool("cmake"), "--build", build, "--parallel", "2"])
    return build / "client"


def talks_to_trainer(binary: Path, port: int) -> None:
    proc = subprocess.run([binary, str(port)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"{binary} failed:\n{proc.stdout}{proc.stderr}"
    assert "Message from Server to /env/0" in proc.stdout, f"{binary} printed:\n{proc.stdout}"


@pytest.fixture(scope="module")
def trainer():
    proc = subprocess.Popen(
        [sys.executable, ROOT / "examples" / "python" / "trainer.py", "--port", "0", "--stop-on-eof"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout and proc.stdin
    first = proc.stdout.readline().split()
    if first[:2] != ["listening", "on"]:
        proc.kill()
        raise RuntimeError(f"the example trainer did not start (printed {first})")
    yield int(first[2])
    proc.stdin.close()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def prefix(tmp_path_factory) -> Path:
    prefix = tmp_path_factory.mktemp("install") / "prefix"
    make_ok("install", f"PREFIX={prefix}")
    return prefix


def installed_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_installs_libraries_headers_and_packages(prefix: Path) -> None:
    assert installed_files(prefix) == INSTALLED
    assert (prefix / "include/wsbridge.h").read_bytes() == (ROOT / "include/wsbridge.h").read_bytes()
    assert (prefix / "include/wsbridge.hpp").read_bytes() == (ROOT / "bindings/cpp/wsbridge.hpp").read_bytes()
    assert pkg_config(prefix, "--modversion", "wsbridge") == [header_version()]


def test_pkg_config_carries_the_static_link_libraries(prefix: Path) -> None:
    shared = pkg_config(prefix, "--libs", "wsbridge")
    assert shared == [f"-L{prefix}/lib", "-lwsbridge"]
    assert pkg_config(prefix, "--static", "--libs", "wsbridge") == shared + native_libs()
    assert pkg_config(prefix, "--libs", "wsbridge-static") == [f"{prefix}/lib/libwsbridge.a", *native_libs()]
    assert pkg_config(prefix, "--cflags", "wsbridge") == [f"-I{prefix}/include"]


def test_c_program_with_pkg_config_shared(prefix: Path, trainer: int, tmp_path: Path) -> None:
    binary = tmp_path / "client"
    libdir = pkg_config(prefix, "--variable=libdir", "wsbridge")[0]
    run([os.environ.get("CC", "cc"), *STRICT_C, "-o", binary, EXAMPLE_C,
         *pkg_config(prefix, "--cflags", "--libs", "wsbridge"), f"-Wl,-rpath,{libdir}"])
    assert "libwsbridge.so" in needed(binary)
    talks_to_trainer(binary, trainer)


def test_c_program_with_pkg_config_static(prefix: Path, trainer: int, tmp_path: Path) -> None:
    binary = tmp_path / "client"
    run([os.environ.get("CC", "cc"), *STRICT_C, "-o", binary, EXAMPLE_C,
         *pkg_config(prefix, "--cflags", "--libs", "wsbridge-static")])
    assert "libwsbridge.so" not in needed(binary)
    talks_to_trainer(binary, trainer)


@pytest.mark.parametrize("link", ["shared", "static"])
def test_cxx_program_with_cmake_find_package(prefix: Path, trainer: int, tmp_path: Path, link: str) -> None:
    options = ["-DWSBRIDGE_USE_STATIC_LIBS=ON"] if link == "static" else []
    binary = cmake_build(EXAMPLE_CPP, tmp_path / "build", prefix, *options)
    assert ("libwsbridge.so" in needed(binary)) == (link == "shared"), needed(binary)
    talks_to_trainer(binary, trainer)


@pytest.mark.parametrize(
    "wanted, found",
    [("", True), ("0.1", True), ("0.1.0", True), ("0.0.9", False), ("0.2", False), ("1.0", False),
     ("0.1...0.3", True), ("0.2...1.0", False)],
)
def test_cmake_version_check(prefix: Path, tmp_path: Path, wanted: str, found: bool) -> None:
    out = run([tool("cmake"), "-S", VERSION_PROJECT, "-B", tmp_path, f"-DCMAKE_PREFIX_PATH={prefix}",
               f"-DWANTED={wanted}"]).stdout
    assert f"wsbridge_FOUND={'1' if found else '0'}" in out, out


def test_destdir_stages_a_relocatable_tree(trainer: int, tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    make_ok("install", f"DESTDIR={stage}", "PREFIX=/opt/wsbridge")
    root = stage / "opt" / "wsbridge"
    assert installed_files(stage) == {f"opt/wsbridge/{f}" for f in INSTALLED}
    assert "prefix=/opt/wsbridge\n" in (root / "lib/pkgconfig/wsbridge.pc").read_text()
    # The CMake package finds its files relative to itself, wherever the tree is.
    talks_to_trainer(cmake_build(EXAMPLE_CPP, tmp_path / "build", root), trainer)
    # pkg-config maps the /opt/wsbridge paths into the stage through its sysroot.
    binary = tmp_path / "client-c"
    flags = pkg_config(root, "--cflags", "--libs", "wsbridge-static", sysroot=stage)
    run([os.environ.get("CC", "cc"), *STRICT_C, "-o", binary, EXAMPLE_C, *flags])
    talks_to_trainer(binary, trainer)


def test_uninstall_removes_what_install_put(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    (prefix / "lib").mkdir(parents=True)
    (prefix / "lib" / "unrelated.txt").write_text("kept")
    make_ok("install", f"PREFIX={prefix}")
    make_ok("uninstall", f"PREFIX={prefix}")
    assert installed_files(prefix) == {"lib/unrelated.txt"}


def test_relative_prefix_is_refused(tmp_path: Path) -> None:
    proc = make("install", "PREFIX=relative/dir")
    assert proc.returncode != 0
    assert "PREFIX must be an absolute path, got 'relative/dir'" in proc.stdout + proc.stderr
