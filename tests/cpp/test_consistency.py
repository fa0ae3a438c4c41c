"""What the compilers here cannot check: the Unreal plugin (no engine on this machine) and the
C++ wrapper against the C header and the built library.

- Every C function, macro and type the wrapper and the plugin use is declared in
  include/wsbridge.h, and the wrapper covers every function of the header.
- Every `wsbridge::` name the plugin uses exists in the wrapper, and the plugin's
  EWsBridgeResult lists every result code of the header, in value order.
- The built library exports every function of the header.
- The plugin is laid out as Unreal expects (.uplugin modules, Build.cs files, generated headers),
  and `make unreal-plugin` stages a drop-in copy with the headers and the Linux library.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from cpp_build import ROOT, built, make

HEADER = ROOT / "include" / "wsbridge.h"
WRAPPER = ROOT / "bindings" / "cpp" / "wsbridge.hpp"
PLUGIN = ROOT / "bindings" / "unreal" / "WsBridge"
PLUGIN_SOURCES = sorted(p for p in (PLUGIN / "Source").rglob("*") if p.suffix in (".h", ".cpp"))
RELEASE_SO = ROOT / "target" / "release" / "libwsbridge.so"


def code(path: Path) -> str:
    """The file without comments and literals (so examples in comments do not count)."""
    text = path.read_text()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"'(?:\\.|[^'\\\n])'", "''", text)  # character literals, such as '"'
    return re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)


def declared() -> tuple[set[str], set[str], set[str]]:
    """Functions, macros and types of include/wsbridge.h."""
    text = code(HEADER)
    functions = set(re.findall(r"\b(wsb_\w+)\s*\(", text))
    macros = set(re.findall(r"^#define\s+(WSB_\w+)", HEADER.read_text(), re.M))
    types = set(re.findall(r"typedef\s+[\w\s\*]+?\b(wsb_\w+)\s*;", text))
    return functions, macros, types


def used_c_names(paths: list[Path]) -> dict[str, set[str]]:
    """Each wsb_* / WSB_* identifier used in `paths`, with the files that use it."""
    uses: dict[str, set[str]] = {}
    for path in paths:
        for name in re.findall(r"\b((?:wsb|WSB)_\w+)\b", code(path)):
            uses.setdefault(name, set()).add(path.name)
    return uses


def test_header_parses() -> None:
    functions, macros, types = declared()
    assert {"wsb_connect", "wsb_recv", "wsb_shutdown", "wsb_last_error"} <= functions
    assert {"WSB_OK", "WSB_TEXT", "WSB_INTERNAL", "WSB_STATE_CLOSED"} <= macros
    assert types == {"wsb_result", "wsb_handle"}


def test_wrapper_and_plugin_use_only_what_the_header_declares() -> None:
    functions, macros, types = declared()
    uses = used_c_names([WRAPPER, *PLUGIN_SOURCES])
    unknown = {name: files for name, files in uses.items() if name not in functions | macros | types}
    assert not unknown, f"not declared in include/wsbridge.h: {unknown}"
    calls = set(re.findall(r"\b(wsb_\w+)\s*\(", "".join(code(p) for p in [WRAPPER, *PLUGIN_SOURCES])))
    assert calls <= functions, f"called but not declared: {calls - functions}"


def test_wrapper_covers_every_function_of_the_header() -> None:
    functions, _, _ = declared()
    called = set(re.findall(r"\b(wsb_\w+)\b", code(WRAPPER)))
    assert functions - called == set(), f"wsbridge.hpp does not wrap: {sorted(functions - called)}"


def test_plugin_uses_only_what_the_wrapper_defines() -> None:
    wrapper = code(WRAPPER)
    defined = set(re.findall(r"\b(?:class|struct|enum class)\s+(?:\[\[\w+\]\]\s+)?(\w+)", wrapper))
    defined |= set(re.findall(r"\b(\w+)\s*\(", wrapper))  # functions and member functions
    defined |= set(re.findall(r"\b(\w+)\s*(?:\{[^}\n]*\}|=[^;\n]*)?;", wrapper))  # data members
    defined |= set(re.findall(r"^\s+(\w+)\s*=\s*WSB_", wrapper, re.M))  # enumerators
    plugin = "\n".join(code(p) for p in PLUGIN_SOURCES)
    names = {part for n in re.findall(r"wsbridge::(\w+(?:::\w+)*)", plugin) for part in n.split("::")}
    # Members used on the plugin's variables of wrapper types (e.g. `wsbridge::Client Connection`).
    variables = set(re.findall(r"wsbridge::[\w:]+(?:<[^<>]*>)?\s*&?\s+(\w+)", plugin))
    assert "Connection" in variables and "Reply" in variables, variables
    members = set(re.findall(rf"\b(?:{'|'.join(variables)})\s*(?:\.|->)\s*(\w+)", plugin))
    missing = sorted((names | members) - defined)
    assert not missing, f"the plugin uses names wsbridge.hpp does not define: {missing}"


def test_plugin_result_enum_mirrors_every_result_code() -> None:
    """EWsBridgeResult casts WSB_* codes straight to the enum: its entries, in order, must be the
    header's result codes in value order (CamelCase of the names), then `Unknown`."""
    header = HEADER.read_text()
    results = sorted(
        (int(value), name)
        for name, value in re.findall(r"^#define\s+(WSB_\w+)\s+(\d+)$", header, re.M)
        if name not in {"WSB_TEXT", "WSB_BINARY"} and not name.startswith(("WSB_STATE_", "WSB_VERSION_"))
    )
    assert [v for v, _ in results] == list(range(len(results))), results
    camel = ["".join(w.capitalize() for w in name[4:].split("_")) for _, name in results]
    types = code(PLUGIN / "Source" / "WsBridge" / "Public" / "WsBridgeTypes.h")
    body = re.search(r"enum class EWsBridgeResult[^{]*\{(.*?)\}", types, re.S)
    assert body, "EWsBridgeResult not found"
    entries = [e.split("=")[0].strip() for e in body.group(1).split(",") if e.strip()]
    assert entries == camel + ["Unknown"]


def test_library_exports_every_function_of_the_header() -> None:
    functions, _, _ = declared()
    out = subprocess.run(["nm", "-D", "--defined-only", built(RELEASE_SO)], check=True, capture_output=True, text=True)
    exported = {line.split()[-1] for line in out.stdout.splitlines() if line.strip()}
    assert functions <= exported, f"declared but not exported: {sorted(functions - exported)}"


def test_plugin_layout() -> None:
    plugin = json.loads((PLUGIN / "WsBridge.uplugin").read_text())
    assert plugin["FileVersion"] == 3
    for module in plugin["Modules"]:
        build = PLUGIN / "Source" / module["Name"] / f"{module['Name']}.Build.cs"
        assert build.exists(), f"{build} is missing"
        assert f"class {module['Name']} : ModuleRules" in build.read_text()
        assert f"IMPLEMENT_MODULE(FWsBridgeModule, {module['Name']})" in "".join(
            p.read_text() for p in PLUGIN_SOURCES
        )
    third_party = PLUGIN / "Source" / "ThirdParty" / "WsBridgeLibrary" / "WsBridgeLibrary.Build.cs"
    assert "Type = ModuleType.External" in third_party.read_text()
    runtime_build = (PLUGIN / "Source" / "WsBridge" / "WsBridge.Build.cs").read_text()
    assert '"WsBridgeLibrary"' in runtime_build, "the runtime module does not depend on the ThirdParty module"
    # The Unreal Header Tool wants NAME.generated.h as the last include of NAME.h.
    for header in PLUGIN_SOURCES:
        includes = re.findall(r'^#include\s+"([^"]+)"', header.read_text(), re.M)
        generated = [i for i in includes if i.endswith(".generated.h")]
        if generated or re.search(r"\b(UCLASS|UENUM|USTRUCT|DECLARE_DYNAMIC_MULTICAST)", code(header)):
            assert generated == [f"{header.stem}.generated.h"] and includes[-1] == generated[0], header
    # Plugin-local includes resolve.
    local = {p.name for p in PLUGIN_SOURCES} | {"wsbridge.h", "wsbridge.hpp"}
    for source in PLUGIN_SOURCES:
        for include in re.findall(r'^#include\s+"(WsBridge[^"]*|wsbridge[^"]*)"', source.read_text(), re.M):
            assert include in local or include.endswith(".generated.h"), f"{source.name}: {include}"


def test_make_unreal_plugin_stages_a_drop_in_copy(tmp_path: Path) -> None:
    staged = tmp_path / "WsBridge"
    proc = make("unreal-plugin", f"UNREAL_PLUGIN_DIR={staged}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    include = staged / "Source" / "ThirdParty" / "WsBridgeLibrary" / "include"
    assert (include / "wsbridge.h").read_bytes() == HEADER.read_bytes()
    assert (include / "wsbridge.hpp").read_bytes() == WRAPPER.read_bytes()
    library = staged / "Binaries" / "ThirdParty" / "WsBridgeLibrary" / "Linux" / "libwsbridge.so"
    assert library.read_bytes() == RELEASE_SO.read_bytes()
    for source in PLUGIN.rglob("*"):
        if source.is_file():
            assert (staged / source.relative_to(PLUGIN)).read_bytes() == source.read_bytes()
    # WsBridgeLibrary.Build.cs requires exactly these for Linux.
    build = (PLUGIN / "Source" / "ThirdParty" / "WsBridgeLibrary" / "WsBridgeLibrary.Build.cs").read_text()
    assert 'Path.Combine(ModuleDirectory, "include", "wsbridge.h")' in build
    assert 'Path.Combine(PluginDirectory, "Binaries", "ThirdParty", "WsBridgeLibrary")' in build
    assert 'Required(Path.Combine(BinDir, Platform, "libwsbridge.so"))' in build
