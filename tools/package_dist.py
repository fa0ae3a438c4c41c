"""Assembles the release packages of `make dist` (mk/dist.mk) from the staged, stripped
libraries (build/dist/lib/<platform>/) into dist/:

    wsbridge-sdk-<v>-linux-x64.tar.gz    the C SDK, as `make install` lays it out (headers,
    wsbridge-sdk-<v>-linux-arm64.tar.gz  shared and static library, pkg-config and CMake
                                         files), plus lib/libwsbridge.so.debug
    wsbridge-sdk-<v>-win-x64.zip         include/, bin/wsbridge.dll (+ .debug), lib/wsbridge.lib
                                         (MSVC import library), libwsbridge.dll.a and
                                         libwsbridge.a (mingw), wsbridge.def
    com.wsbridge.unity-<v>.tgz           the Unity package with every built library in Plugins/
    WsBridge-unreal-<v>.zip              the Unreal plugin with its ThirdParty binaries
    SHA256SUMS                           of everything above and the trainer wheel

    python tools/package_dist.py VERSION LIBS LINUX_SDK_TREES OUT

LINUX_SDK_TREES/<platform> is a `make install` prefix of that platform's stripped Linux
libraries (mk/install.mk generates the pkg-config and CMake files). Every package carries LICENSE-MIT, LICENSE-APACHE and
THIRD-PARTY-NOTICES.md. The wheel is built by mk/dist.mk before this runs.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LICENSES = ["LICENSE-MIT", "LICENSE-APACHE", "THIRD-PARTY-NOTICES.md"]
HEADERS = [ROOT / "include" / "wsbridge.h", ROOT / "bindings" / "cpp" / "wsbridge.hpp"]
# Unity's Plugins/runtimes/<rid>/native/<file> per staged platform and library.
UNITY_PLUGINS = {"linux-x64": "libwsbridge.so", "win-x64": "wsbridge.dll"}
# Where the Unreal plugin's Build.cs looks for each file (WsBridgeLibrary.Build.cs).
UNREAL_FILES = {
    ("linux-x64", "libwsbridge.so"): "Binaries/ThirdParty/WsBridgeLibrary/Linux/libwsbridge.so",
    ("linux-arm64", "libwsbridge.so"): "Binaries/ThirdParty/WsBridgeLibrary/LinuxArm64/libwsbridge.so",
    ("win-x64", "wsbridge.dll"): "Binaries/ThirdParty/WsBridgeLibrary/Win64/wsbridge.dll",
    ("win-x64", "wsbridge.lib"): "Source/ThirdParty/WsBridgeLibrary/lib/Win64/wsbridge.dll.lib",
}
# A .meta for the license files in the Unity package (a read-only package ignores files without
# one); fixed GUIDs, distinct from the package's own.
UNITY_LICENSE_GUIDS = {
    "LICENSE-MIT": "5f0c6b3e2a9d4c8e9b1a7d3f60e24c11",
    "LICENSE-APACHE": "8a2e4d6f1b3c4e5a9d7f0b2c4e6a8d12",
    "THIRD-PARTY-NOTICES.md": "c3d5e7f9a1b24c6d8e0f2a4b6c8d0e13",
}


def add_licenses(folder: Path) -> None:
    for name in LICENSES:
        shutil.copy2(ROOT / name, folder / name)


def tar_gz(source: Path, arcname: str, out: Path) -> None:
    with tarfile.open(out, "w:gz") as tar:
        tar.add(source, arcname=arcname)


def zip_dir(source: Path, arcname: str, out: Path) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(source.rglob("*")):
            info = zipfile.ZipInfo.from_file(path, f"{arcname}/{path.relative_to(source).as_posix()}")
            if path.is_dir():
                z.writestr(info, b"")
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, path.read_bytes())


def linux_sdk(platform: str, version: str, libs: Path, trees: Path, stage: Path, out: Path) -> Path:
    name = f"wsbridge-sdk-{version}-{platform}"
    folder = stage / name
    shutil.copytree(trees / platform, folder)
    shutil.copy2(libs / platform / "libwsbridge.so.debug", folder / "lib")
    add_licenses(folder)
    tar_gz(folder, name, out / f"{name}.tar.gz")
    return out / f"{name}.tar.gz"


def windows_sdk(version: str, libs: Path, stage: Path, out: Path) -> Path:
    name = f"wsbridge-sdk-{version}-win-x64"
    folder = stage / name
    win = libs / "win-x64"
    for sub, files in {
        "include": HEADERS,
        "bin": [win / "wsbridge.dll", win / "wsbridge.dll.debug"],
        "lib": [win / f for f in ("wsbridge.lib", "wsbridge.def", "libwsbridge.dll.a", "libwsbridge.a")],
    }.items():
        (folder / sub).mkdir(parents=True)
        for f in files:
            shutil.copy2(f, folder / sub / f.name)
    add_licenses(folder)
    zip_dir(folder, name, out / f"{name}.zip")
    return out / f"{name}.zip"


def unity_package(version: str, libs: Path, stage: Path, out: Path) -> Path:
    folder = stage / "unity" / "package"
    shutil.copytree(ROOT / "bindings" / "unity", folder, ignore=shutil.ignore_patterns(".*"))
    runtimes = folder / "Plugins" / "runtimes"
    for platform, lib in UNITY_PLUGINS.items():
        shutil.copy2(libs / platform / lib, runtimes / platform / "native" / lib)
    # The import settings of a library not built here would be an orphan .meta: Unity warns.
    for meta in runtimes.glob("*/native/*.meta"):
        if not meta.with_suffix("").exists():
            meta.unlink()
    add_licenses(folder)
    for name, guid in UNITY_LICENSE_GUIDS.items():
        importer = "TextScriptImporter" if name.endswith(".md") else "DefaultImporter"
        (folder / f"{name}.meta").write_text(
            f"fileFormatVersion: 2\nguid: {guid}\n{importer}:\n  externalObjects: {{}}\n  userData: \n"
            "  assetBundleName: \n  assetBundleVariant: \n"
        )
    path = out / f"com.wsbridge.unity-{version}.tgz"
    tar_gz(folder, "package", path)  # UPM tarballs hold a top folder named "package"
    return path


def unreal_plugin(version: str, libs: Path, stage: Path, out: Path) -> Path:
    folder = stage / "unreal" / "WsBridge"
    shutil.copytree(ROOT / "bindings" / "unreal" / "WsBridge", folder, ignore=shutil.ignore_patterns(".*"))
    include = folder / "Source" / "ThirdParty" / "WsBridgeLibrary" / "include"
    include.mkdir(parents=True, exist_ok=True)
    for header in HEADERS:
        shutil.copy2(header, include / header.name)
    for (platform, lib), dest in UNREAL_FILES.items():
        (folder / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(libs / platform / lib, folder / dest)
    add_licenses(folder)
    path = out / f"WsBridge-unreal-{version}.zip"
    zip_dir(folder, "WsBridge", path)
    return path


def sha256sums(out: Path) -> None:
    lines = []
    for path in sorted(p for p in out.iterdir() if p.is_file() and p.name != "SHA256SUMS"):
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n")
    (out / "SHA256SUMS").write_text("".join(lines))


def main() -> int:
    version, libs, trees, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        made = [
            linux_sdk("linux-x64", version, libs, trees, stage, out),
            linux_sdk("linux-arm64", version, libs, trees, stage, out),
            windows_sdk(version, libs, stage, out),
            unity_package(version, libs, stage, out),
            unreal_plugin(version, libs, stage, out),
        ]
    sha256sums(out)
    for path in made:
        print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
