"""The packages of `make dist`, each unpacked into an empty folder and used as a user would:

- the Linux C SDK: examples/c/client.c built through its pkg-config files (shared, static) and
  examples/cpp through its CMake package (shared, static), run against the example trainer;
- the Windows C SDK: examples/c/client.c cross-built with mingw against its wsbridge.lib, run
  with its wsbridge.dll under Wine against the same trainer;
- the Unity package: every built library in Plugins/ with the import settings of the source
  package, no orphan .meta (its C# suite runs under Mono against this Plugins folder: mk/dist.mk);
- the Unreal plugin: the libraries where WsBridgeLibrary.Build.cs looks for them;
- the trainer wheel: pip-installed into a fresh virtual environment and imported.
Every package carries LICENSE-MIT, LICENSE-APACHE and THIRD-PARTY-NOTICES.md, its name carries
Cargo.toml's version, and SHA256SUMS matches."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "cpp"))
sys.path.insert(0, str(ROOT / "tests" / "windows"))
from test_install import STRICT_C, cmake_build, needed, pkg_config, run, talks_to_trainer, trainer  # noqa: E402,F401
from wine import run_exe, setting, wine_session  # noqa: E402

VERSION = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["version"]
DIST = Path(os.environ.get("WSB_DIST", ROOT / "dist"))
LICENSES = ["LICENSE-MIT", "LICENSE-APACHE", "THIRD-PARTY-NOTICES.md"]
PACKAGES = {
    "linux-sdk": f"wsbridge-sdk-{VERSION}-linux-x64.tar.gz",
    "linux-arm64-sdk": f"wsbridge-sdk-{VERSION}-linux-arm64.tar.gz",
    "windows-sdk": f"wsbridge-sdk-{VERSION}-win-x64.zip",
    "unity": f"com.wsbridge.unity-{VERSION}.tgz",
    "unreal": f"WsBridge-unreal-{VERSION}.zip",
    "wheel": f"wsbridge-{VERSION}-py3-none-any.whl",
}
# The folder each archive unpacks into (the wheel's licenses are in its .dist-info).
TOP = {
    "linux-sdk": f"wsbridge-sdk-{VERSION}-linux-x64",
    "linux-arm64-sdk": f"wsbridge-sdk-{VERSION}-linux-arm64",
    "windows-sdk": f"wsbridge-sdk-{VERSION}-win-x64",
    "unity": "package",
    "unreal": "WsBridge",
    "wheel": f"wsbridge-{VERSION}.dist-info/licenses",
}
UNITY_PLUGINS = ["linux-x64/native/libwsbridge.so", "win-x64/native/wsbridge.dll"]
UNREAL_FILES = [
    "Binaries/ThirdParty/WsBridgeLibrary/Linux/libwsbridge.so",
    "Binaries/ThirdParty/WsBridgeLibrary/LinuxArm64/libwsbridge.so",
    "Binaries/ThirdParty/WsBridgeLibrary/Win64/wsbridge.dll",
    "Source/ThirdParty/WsBridgeLibrary/lib/Win64/wsbridge.dll.lib",
    "Source/ThirdParty/WsBridgeLibrary/include/wsbridge.h",
    "Source/ThirdParty/WsBridgeLibrary/include/wsbridge.hpp",
]


def package(kind: str) -> Path:
    path = DIST / PACKAGES[kind]
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run these tests with `make test-dist` (runs `make dist`)")
    return path


def unpack(kind: str, into: Path) -> Path:
    """Unpacks into `into`, which must be empty; returns the package's top folder."""
    assert not into.exists() or not any(into.iterdir())
    path = package(kind)
    if path.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(path) as tar:
            tar.extractall(into, filter="data")
    else:
        with zipfile.ZipFile(path) as z:
            z.extractall(into)
            for info in z.infolist():  # zipfile drops the permission bits
                mode = info.external_attr >> 16
                if mode:
                    (into / info.filename).chmod(mode & 0o777)
    return into / TOP[kind]


def test_sha256sums_match_every_package():
    listed = dict(reversed(line.split("  ", 1)) for line in (DIST / "SHA256SUMS").read_text().splitlines())
    assert sorted(listed) == sorted(PACKAGES.values())
    for name, digest in listed.items():
        assert hashlib.sha256((DIST / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.parametrize("kind", sorted(PACKAGES))
def test_licenses_inside(kind, tmp_path):
    top = unpack(kind, tmp_path)
    for name in LICENSES:
        assert (top / name).read_bytes() == (ROOT / name).read_bytes(), f"{name} in {PACKAGES[kind]}"


# ---- the Linux C SDK ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def linux_sdk(tmp_path_factory) -> Path:
    return unpack("linux-sdk", tmp_path_factory.mktemp("linux-sdk"))


def sdk_pkg_config(sdk: Path, *args: str) -> list[str]:
    # The .pc files say /usr/local (where the tree installs); --define-prefix uses where it is.
    return pkg_config(sdk, "--define-prefix", *args)


SDK_FILES = ("include/wsbridge.h", "include/wsbridge.hpp", "lib/libwsbridge.so", "lib/libwsbridge.so.debug",
             "lib/libwsbridge.a", "lib/pkgconfig/wsbridge.pc", "lib/pkgconfig/wsbridge-static.pc",
             "lib/cmake/wsbridge/wsbridge-config.cmake", "lib/cmake/wsbridge/wsbridge-config-version.cmake")


@pytest.mark.parametrize("kind, machine", [("linux-sdk", "X86-64"), ("linux-arm64-sdk", "AArch64")])
def test_linux_sdk_files_version_and_machine(kind, machine, tmp_path):
    sdk = unpack(kind, tmp_path)
    files = {p.relative_to(sdk).as_posix() for p in sdk.rglob("*") if p.is_file()}
    assert set(SDK_FILES) <= files, set(SDK_FILES) - files
    assert sdk_pkg_config(sdk, "--modversion", "wsbridge") == [VERSION]
    assert machine in run(["readelf", "-h", sdk / "lib/libwsbridge.so"]).stdout


def test_linux_sdk_c_program_through_pkg_config_shared(linux_sdk, trainer, tmp_path):
    binary = tmp_path / "client"
    flags = sdk_pkg_config(linux_sdk, "--cflags", "--libs", "wsbridge")
    assert f"-L{linux_sdk}/lib" in flags, flags
    run([os.environ.get("CC", "cc"), *STRICT_C, "-o", binary, ROOT / "examples/c/client.c", *flags,
         f"-Wl,-rpath,{linux_sdk}/lib"])
    assert "libwsbridge.so" in needed(binary)
    talks_to_trainer(binary, trainer)


def test_linux_sdk_c_program_through_pkg_config_static(linux_sdk, trainer, tmp_path):
    binary = tmp_path / "client"
    run([os.environ.get("CC", "cc"), *STRICT_C, "-o", binary, ROOT / "examples/c/client.c",
         *sdk_pkg_config(linux_sdk, "--cflags", "--libs", "wsbridge-static")])
    assert "libwsbridge.so" not in needed(binary)
    talks_to_trainer(binary, trainer)


@pytest.mark.parametrize("link", ["shared", "static"])
def test_linux_sdk_cxx_program_through_cmake(linux_sdk, trainer, tmp_path, link):
    options = ["-DWSBRIDGE_USE_STATIC_LIBS=ON"] if link == "static" else []
    binary = cmake_build(ROOT / "examples/cpp", tmp_path / "build", linux_sdk, *options)
    assert ("libwsbridge.so" in needed(binary)) == (link == "shared")
    talks_to_trainer(binary, trainer)


# ---- the Windows C SDK under Wine ----------------------------------------------------------------


@pytest.fixture(scope="module")
def wine() -> Iterator[dict[str, str]]:
    with wine_session() as env:
        yield env


def test_windows_sdk_dll_under_wine(wine, trainer, tmp_path):
    sdk = unpack("windows-sdk", tmp_path / "sdk")
    app = tmp_path / "app"
    app.mkdir()
    run(["x86_64-w64-mingw32-gcc", *STRICT_C, f"-I{sdk}/include", "-o", app / "client.exe",
         ROOT / "examples/c/client.c", sdk / "lib/wsbridge.lib"])
    shutil.copy2(sdk / "bin/wsbridge.dll", app)
    # Wine 8 lacks bcryptprimitives.dll (every Windows 10 has it): the tests' stand-in.
    shutil.copy2(Path(setting("WSB_WINDOWS_TESTS")) / "bcryptprimitives.dll", app)
    out = run_exe(wine, app / "client.exe", [str(trainer)], {})
    assert "Message from Server to /env/0" in out, out


# ---- Unity, Unreal ------------------------------------------------------------------------------


def test_unity_package_plugins(tmp_path):
    top = unpack("unity", tmp_path)
    runtimes = top / "Plugins" / "runtimes"
    for plugin in UNITY_PLUGINS:
        assert (runtimes / plugin).is_file(), plugin
        meta = f"{plugin}.meta"
        assert (runtimes / meta).read_bytes() == (ROOT / "bindings/unity/Plugins/runtimes" / meta).read_bytes()
    orphans = [m for m in runtimes.glob("*/native/*.meta") if not m.with_suffix("").exists()]
    assert orphans == []
    # Unity skips folders ending in "~" (Samples~): those need no .meta.
    metas_missing = [p for p in top.rglob("*") if not p.name.endswith(".meta")
                     and not any(part.endswith("~") for part in p.relative_to(top).parts)
                     and not (p.parent / f"{p.name}.meta").exists()]
    assert metas_missing == [], "a read-only package ignores files without a .meta"


def test_unreal_plugin_binaries(tmp_path):
    top = unpack("unreal", tmp_path)
    for f in UNREAL_FILES:
        assert (top / f).is_file(), f
    assert (top / "WsBridge.uplugin").is_file()


# ---- the trainer wheel ----------------------------------------------------------------------------


def test_wheel_installs_into_a_fresh_venv_and_imports(tmp_path):
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv])
    run([venv / "bin/pip", "install", "--quiet", "--disable-pip-version-check", package("wheel")])
    out = run([venv / "bin/python", "-c",
               "import importlib.metadata as m, wsbridge; from wsbridge import Hub, RemoteVectorEnv; "
               "print(m.version('wsbridge'), wsbridge.__file__)"], cwd=tmp_path).stdout.split()
    assert out[0] == VERSION
    assert out[1].startswith(str(venv)), out
