"""One version, Cargo.toml's: the header macros (cbindgen), the Unity package.json, the Unreal
.uplugin, the trainer's pyproject.toml and (tests/dist/test_packages.py) the archive names."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cargo_version() -> str:
    return tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["version"]


def test_header_macros_state_the_cargo_version():
    header = (ROOT / "include" / "wsbridge.h").read_text()
    parts = [re.search(rf"^#define WSB_VERSION_{p} (\d+)$", header, re.M).group(1) for p in ("MAJOR", "MINOR", "PATCH")]
    assert ".".join(parts) == cargo_version()


def test_unity_package_json():
    assert json.loads((ROOT / "bindings/unity/package.json").read_text())["version"] == cargo_version()


def test_unreal_uplugin():
    plugin = json.loads((ROOT / "bindings/unreal/WsBridge/WsBridge.uplugin").read_text())
    assert plugin["VersionName"] == cargo_version()


def test_python_pyproject():
    project = tomllib.loads((ROOT / "bindings/python/pyproject.toml").read_text())["project"]
    assert project["version"] == cargo_version()
