"""The Unity package's layout: package.json and the .asmdef, a .meta for every file and folder,
the native plugin folders and their per-platform import settings, and the iOS switch of the
generated NativeMethods.g.cs. (NativeMethods.g.cs and WsResult.g.cs are generated from the Rust
source and drift-checked by tests/generated, like the header.)"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "bindings" / "unity"
HEADER = ROOT / "include" / "wsbridge.h"
NATIVE_METHODS = PACKAGE / "Runtime" / "NativeMethods.g.cs"

# Native library per platform: folder, file name as DllImport("wsbridge") finds it there, and the
# import settings it needs: {(platform group, platform): {setting: value}}; all others disabled.
PLUGINS = {
    "linux-x64/native/libwsbridge.so": {
        ("Editor", "Editor"): {"OS": "Linux", "CPU": "x86_64"},
        ("Standalone", "Linux64"): {"CPU": "x86_64"},
    },
    "win-x64/native/wsbridge.dll": {
        ("Editor", "Editor"): {"OS": "Windows", "CPU": "x86_64"},
        ("Standalone", "Win64"): {"CPU": "x86_64"},
    },
    "osx/native/libwsbridge.dylib": {
        ("Editor", "Editor"): {"OS": "OSX", "CPU": "AnyCPU"},
        ("Standalone", "OSXUniversal"): {"CPU": "AnyCPU"},
    },
    "android-arm64/native/libwsbridge.so": {("Android", "Android"): {"CPU": "ARM64"}},
    "ios-arm64/native/libwsbridge.a": {("iPhone", "iOS"): {"CPU": "ARM64"}},
}
PLUGIN_DIR = PACKAGE / "Plugins" / "runtimes"

# ---- package.json and the assembly definition ---------------------------------------------


def header_version() -> str:
    text = HEADER.read_text()
    parts = [re.search(rf"#define WSB_VERSION_{p} (\d+)", text).group(1) for p in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(parts)


def test_package_json() -> None:
    manifest = json.loads((PACKAGE / "package.json").read_text())
    assert re.fullmatch(r"com(\.[a-z0-9][a-z0-9-]*){2,}", manifest["name"]), manifest["name"]
    assert manifest["version"] == header_version(), "package version must match the header it mirrors"
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["version"]
    assert manifest["version"] == cargo
    assert manifest["unity"] == "2021.3"
    assert len(manifest["description"]) > 40
    assert manifest["displayName"]
    assert manifest["samples"], "samples are listed"
    for sample in manifest["samples"]:
        folder = PACKAGE / sample["path"]
        assert sample["path"].startswith("Samples~/") and folder.is_dir(), sample
        assert list(folder.glob("*.cs")), f"{folder} has no script"
        assert sample["displayName"] and sample["description"]


def test_asmdef() -> None:
    asmdefs = sorted(PACKAGE.rglob("*.asmdef"))
    assert [p.relative_to(PACKAGE).as_posix() for p in asmdefs] == [
        "Runtime/Wsbridge.asmdef",
        "Tests/Runtime/Wsbridge.Tests.asmdef",
    ]
    asmdef = json.loads(asmdefs[0].read_text())
    assert asmdef["name"] == "Wsbridge" and asmdef["rootNamespace"] == "Wsbridge"
    assert asmdef["allowUnsafeCode"] is True, "NativeMethods passes pointers"
    assert asmdef["autoReferenced"] is True, "game scripts without an asmdef must see the package"
    assert asmdef["noEngineReferences"] is False, "UnityLifecycle.cs uses UnityEngine"
    assert asmdef["excludePlatforms"] == [], "every platform, WebGL included (Plugins/WebGL/wsbridge.jslib)"
    assert asmdef["includePlatforms"] == []
    for source in (PACKAGE / "Runtime").glob("*.cs"):
        assert "namespace Wsbridge\n" in source.read_text(), f"{source.name} is outside namespace Wsbridge"


def test_tests_asmdef_is_a_unity_test_framework_assembly() -> None:
    """Tests/Runtime: compiled by Unity only in a project that lists the package in "testables"."""
    asmdef = json.loads((PACKAGE / "Tests" / "Runtime" / "Wsbridge.Tests.asmdef").read_text())
    assert asmdef["name"] == "Wsbridge.Tests"
    assert asmdef["references"] == ["Wsbridge", "UnityEngine.TestRunner", "UnityEditor.TestRunner"]
    assert asmdef["overrideReferences"] is True and asmdef["precompiledReferences"] == ["nunit.framework.dll"]
    assert asmdef["defineConstraints"] == ["UNITY_INCLUDE_TESTS"]
    assert asmdef["autoReferenced"] is False, "game scripts must not see the tests"
    sources = list((PACKAGE / "Tests" / "Runtime").glob("*.cs"))
    assert sources and all("[Test]" in p.read_text() for p in sources)


# ---- .meta files ---------------------------------------------------------------------------


def visible_entries() -> list[Path]:
    """What Unity imports from the package: everything except dotfiles and `~` folders."""
    found = []
    for path in sorted(PACKAGE.rglob("*")):
        rel = path.relative_to(PACKAGE)
        if any(part.startswith(".") or part.endswith("~") for part in rel.parts) or path.suffix == ".meta":
            continue
        found.append(path)
    return found


def metas() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.meta")) if not any(q.endswith("~") for q in p.relative_to(PACKAGE).parts)]


def test_every_file_and_folder_has_a_meta() -> None:
    # A git-installed package is read-only: Unity ignores any asset without a .meta.
    missing = [str(p.relative_to(PACKAGE)) for p in visible_entries() if not Path(f"{p}.meta").exists()]
    assert missing == []


def test_every_meta_has_its_asset_or_is_a_plugin() -> None:
    plugin_metas = {PLUGIN_DIR / f"{rel}.meta" for rel in PLUGINS}
    orphans = [
        str(m.relative_to(PACKAGE)) for m in metas() if not m.with_suffix("").exists() and m not in plugin_metas
    ]
    assert orphans == []


def test_meta_guids_unique_and_importers_match() -> None:
    guids: dict[str, Path] = {}
    for meta in metas():
        text = meta.read_text()
        lines = text.splitlines()
        assert lines[0] == "fileFormatVersion: 2", meta
        guid = re.fullmatch(r"guid: ([0-9a-f]{32})", lines[1])
        assert guid, f"{meta}: bad guid line {lines[1]!r}"
        assert guid.group(1) not in guids, f"{meta} and {guids.get(guid.group(1))} share a GUID"
        guids[guid.group(1)] = meta
        asset = meta.with_suffix("")
        importer = lines[2] if lines[2] != "folderAsset: yes" else "folder"
        expected = (
            "folder"
            if asset.is_dir()
            else "PluginImporter:"
            if meta.parent.name in ("native", "WebGL")
            else {
                ".cs": "MonoImporter:",
                ".asmdef": "AssemblyDefinitionImporter:",
                ".md": "TextScriptImporter:",
                ".json": "PackageManifestImporter:",
            }[asset.suffix]
        )
        assert importer == expected, f"{meta}: {importer} for a {expected}"


# ---- native plugins ------------------------------------------------------------------------


def platform_data(meta: Path) -> tuple[dict[tuple[str, str], tuple[bool, dict[str, str]]], dict[str, str]]:
    """Parses PluginImporter.platformData (Unity's YAML, whose `: Any` key PyYAML rejects):
    {(group, platform): (enabled, settings)} and the "Exclude <platform>" flags of the Any entry."""
    entries: dict[tuple[str, str], tuple[bool, dict[str, str]]] = {}
    excludes: dict[str, str] = {}
    blocks = meta.read_text().split("  - first:\n")[1:]
    for block in blocks:
        lines = block.split("  userData:")[0].splitlines()
        group, _, name = lines[0].strip().partition(":")
        name = name.strip()
        enabled = re.search(r"^      enabled: (\d)$", block, re.M).group(1) == "1"
        settings = dict(
            (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines if line.startswith("        "))
        )
        if group == "" and name == "Any":
            excludes = {k.removeprefix("Exclude "): v for k, v in settings.items()}
        else:
            entries[(group, name)] = (enabled, settings)
    return entries, excludes


def test_plugin_folders_are_exactly_the_supported_platforms() -> None:
    found = sorted(m.relative_to(PLUGIN_DIR).as_posix()[: -len(".meta")] for m in PLUGIN_DIR.glob("*/native/*.meta"))
    assert found == sorted(PLUGINS)


@pytest.mark.parametrize("plugin", sorted(PLUGINS))
def test_plugin_import_settings(plugin: str) -> None:
    entries, excludes = platform_data(PLUGIN_DIR / f"{plugin}.meta")
    wanted = PLUGINS[plugin]
    enabled = {key for key, (on, _) in entries.items() if on}
    assert enabled == set(wanted), f"{plugin} is enabled for {sorted(enabled)}"
    for key, settings in wanted.items():
        for name, value in settings.items():
            assert entries[key][1].get(name) == value, f"{plugin} {key}: {name} is {entries[key][1].get(name)!r}"
    unity_names = {"Editor", "Linux64", "Win64", "OSXUniversal", "Android", "iOS"}
    for (group, name) in entries:
        if name in unity_names:
            assert excludes.get(name) == ("0" if (group, name) in wanted else "1"), f"{plugin}: Exclude {name}"
    assert excludes.get("Win") == "1", f"{plugin}: no 32-bit Windows build"


def test_webgl_plugin_is_the_jslib_for_webgl_only() -> None:
    webgl = PACKAGE / "Plugins" / "WebGL"
    assert sorted(p.name for p in webgl.iterdir()) == ["wsbridge.jslib", "wsbridge.jslib.meta"]
    entries, excludes = platform_data(webgl / "wsbridge.jslib.meta")
    assert {key for key, (on, _) in entries.items() if on} == {("WebGL", "WebGL")}
    assert excludes.get("WebGL") == "0"
    assert all(v == "1" for k, v in excludes.items() if k != "WebGL"), excludes


def test_webgl_replaces_the_pinvoke_declarations() -> None:
    """On WebGL the generated DllImports are left out and NativeMethods.WebGL.cs gives the same
    functions, with the same signatures, over the .jslib."""
    text = NATIVE_METHODS.read_text()
    assert "internal static unsafe partial class NativeMethods" in text
    block = re.search(r"#if UNITY_WEBGL && !UNITY_EDITOR\n(.*?)#else\n(.*?)#endif\n    }\n}", text, re.S)
    assert block, "the DllImports of NativeMethods.g.cs must be left out under UNITY_WEBGL && !UNITY_EDITOR"
    declared = {m.group(2): m.group(1) for m in re.finditer(r"static extern ((?:\w|\*)+ (wsb_\w+)\(.*?\));", block.group(2))}
    shim = (PACKAGE / "Runtime" / "NativeMethods.WebGL.cs").read_text()
    assert shim.startswith("//") and "#if UNITY_WEBGL && !UNITY_EDITOR" in shim
    implemented = {m.group(2): m.group(1) for m in re.finditer(r"internal static ((?:\w|\*)+ (wsb_\w+)\(.*?\))\n", shim)}
    assert declared and implemented == declared


def test_ios_links_statically_through_internal() -> None:
    text = NATIVE_METHODS.read_text()
    block = re.search(r"#if UNITY_IOS && !UNITY_EDITOR\n(.*?)#else\n(.*?)#endif", text, re.S)
    assert block, "NativeMethods.Library must switch to __Internal on iOS"
    assert 'Library = "__Internal"' in block.group(1)
    assert 'Library = "wsbridge"' in block.group(2)

