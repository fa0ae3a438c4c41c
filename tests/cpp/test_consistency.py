"""What the compilers here cannot check: the Unreal plugin (no engine on this machine) and the
C++ wrapper against the C header and the built library.

- Every C function, macro and type the wrapper and the plugin use is declared in
  include/wsbridge.h, and the wrapper covers every function of the header.
- Every `wsbridge::` name the plugin uses exists in the wrapper. (The plugin's EWsBridgeResult is
  generated from the Rust source and drift-checked by tests/generated, like the header.)
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
#: The wrapper: the connection (wsbridge.hpp) and the env protocol's game side (wsbridge_env.hpp).
WRAPPERS = [WRAPPER, ROOT / "bindings" / "cpp" / "wsbridge_env.hpp"]
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
    types |= set(re.findall(r"^\}\s*(wsb_\w+)\s*;", text, re.M))  # typedef struct { ... } name;
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
    assert types == {"wsb_result", "wsb_handle", "wsb_env", "wsb_env_event"}


def test_wrapper_and_plugin_use_only_what_the_header_declares() -> None:
    functions, macros, types = declared()
    uses = used_c_names([*WRAPPERS, *PLUGIN_SOURCES])
    unknown = {name: files for name, files in uses.items() if name not in functions | macros | types}
    assert not unknown, f"not declared in include/wsbridge.h: {unknown}"
    calls = set(re.findall(r"\b(wsb_\w+)\s*\(", "".join(code(p) for p in [*WRAPPERS, *PLUGIN_SOURCES])))
    assert calls <= functions, f"called but not declared: {calls - functions}"


def test_wrapper_covers_every_function_of_the_header() -> None:
    functions, _, _ = declared()
    called = set(re.findall(r"\b(wsb_\w+)\b", "".join(code(p) for p in WRAPPERS)))
    assert functions - called == set(), f"wsbridge.hpp and wsbridge_env.hpp do not wrap: {sorted(functions - called)}"


def test_plugin_uses_only_what_the_wrapper_defines() -> None:
    wrapper = "\n".join(code(p) for p in WRAPPERS)
    defined = set(re.findall(r"\b(?:class|struct|enum class)\s+(?:\[\[\w+\]\]\s+)?(\w+)", wrapper))
    defined |= set(re.findall(r"\b(\w+)\s*\(", wrapper))  # functions and member functions
    defined |= set(re.findall(r"\b(\w+)\s*(?:\{[^}\n]*\}|=[^;\n]*)?;", wrapper))  # data members
    defined |= set(re.findall(r"^\s+(\w+)\s*=\s*WSB_", wrapper, re.M))  # enumerators
    for body in re.findall(r"enum class \w+ : [\w:]+ \{([^}]*)\}", wrapper):  # enumerators without a value
        defined |= set(re.findall(r"\b([a-z_]\w*)\b(?!\s*=)", re.sub(r"=[^,]*", "", body)))
    plugin = "\n".join(code(p) for p in PLUGIN_SOURCES)
    names = {part for n in re.findall(r"wsbridge::(\w+(?:::\w+)*)", plugin) for part in n.split("::")}
    # Members used on the plugin's variables of wrapper types (e.g. `wsbridge::Client Connection`).
    variables = set(re.findall(r"wsbridge::[\w:]*\w(?:<[^<>]*>)?\s*&?\s+(\w+)", plugin))
    assert "Connection" in variables and "Reply" in variables, variables
    members = set(re.findall(rf"\b(?:{'|'.join(variables)})\s*(?:\.|->)\s*(\w+)", plugin))
    missing = sorted((names | members) - defined)
    assert not missing, f"the plugin uses names wsbridge.hpp does not define: {missing}"


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
    local = {p.name for p in PLUGIN_SOURCES} | {"wsbridge.h", *(w.name for w in WRAPPERS)}
    for source in PLUGIN_SOURCES:
        for include in re.findall(r'^#include\s+"(WsBridge[^"]*|wsbridge[^"]*)"', source.read_text(), re.M):
            assert include in local or include.endswith(".generated.h"), f"{source.name}: {include}"


def test_make_unreal_plugin_stages_a_drop_in_copy(tmp_path: Path) -> None:
    staged = tmp_path / "WsBridge"
    proc = make("unreal-plugin", f"UNREAL_PLUGIN_DIR={staged}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    include = staged / "Source" / "ThirdParty" / "WsBridgeLibrary" / "include"
    assert (include / "wsbridge.h").read_bytes() == HEADER.read_bytes()
    for wrapper in WRAPPERS:
        assert (include / wrapper.name).read_bytes() == wrapper.read_bytes()
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
    for wrapper in WRAPPERS:
        assert f'Required(Path.Combine(ModuleDirectory, "include", "{wrapper.name}"))' in build


# ---- The plugin's game-thread rules, options, subsystem and sample (issue 15) ----------------

CLIENT_CPP = PLUGIN / "Source" / "WsBridge" / "Private" / "WsBridgeClient.cpp"
CLIENT_H = PLUGIN / "Source" / "WsBridge" / "Public" / "WsBridgeClient.h"
SAMPLES = ROOT / "bindings" / "unreal" / "Samples"


def body(source: str, function: str) -> str:
    """The body of `function` (a definition `... Class::function(...) {...}` at column 0)."""
    m = re.search(rf"^\S.*::{function}\([^)]*\)[^\n{{;]*\n\{{\n(.*?)^\}}", source, re.S | re.M)
    assert m, f"{function} is not defined"
    return m.group(1)


def test_uplugin_has_the_usual_fields() -> None:
    plugin = json.loads((PLUGIN / "WsBridge.uplugin").read_text())
    assert re.fullmatch(r"5\.\d+\.0", plugin["EngineVersion"]), plugin.get("EngineVersion")
    cargo = re.search(r'^version = "([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M).group(1)
    assert plugin["VersionName"] == cargo
    for field in ("FriendlyName", "Description", "Category", "CreatedBy"):
        assert plugin[field], field
    for field in ("CreatedByURL", "DocsURL", "MarketplaceURL", "SupportURL", "CanContainContent", "IsBetaVersion"):
        assert field in plugin, field
    allowed = {p for m in plugin["Modules"] for p in m["PlatformAllowList"]}
    assert set(plugin["SupportedTargetPlatforms"]) == allowed


def test_game_thread_paths_never_wait_for_a_close() -> None:
    """EndPlay, BeginDestroy (inside garbage collection), a reconnect and Close() give the
    connection to close_in_background; only CloseBlocking waits."""
    source = code(CLIENT_CPP)
    for function in ("Release", "Close", "EndPlay", "BeginDestroy", "Open", "Pump", "Ended"):
        text = body(source, function)
        assert not re.search(r"\.close\s*\(", text), f"{function} calls the blocking close"
    assert "close_in_background" in body(source, "Release")
    assert "close_in_background" in body(source, "Close")
    for function in ("EndPlay", "BeginDestroy", "Open"):
        assert "Release(" in body(source, function), function
    assert re.search(r"Connection\.close\s*\(", body(source, "CloseBlocking"))
    subsystem = code(PLUGIN / "Source" / "WsBridge" / "Private" / "WsBridgeSubsystem.cpp")
    assert "Client->Close(" in body(subsystem, "Deinitialize")


def test_component_sets_every_option_of_the_wrapper() -> None:
    """Every field of wsbridge::Options (TLS and proxy included) is set from a component property."""
    wrapper = code(WRAPPER)
    block = re.search(r"struct Options \{(.*?)std::string to_json", wrapper, re.S).group(1)
    tls = re.search(r"struct Tls \{(.*?)\}", block, re.S).group(1)
    reconnect = re.search(r"struct Reconnect \{(.*?)\}", block, re.S).group(1)
    top = re.sub(r"struct (Tls|Reconnect) \{.*?\}\s*\w+;", "", block, flags=re.S)
    fields = set(re.findall(r"(\w+)(?:\s*=[^;]*)?;", top))
    tls_fields = set(re.findall(r"(\w+)(?:\s*=[^;]*)?;", tls))
    reconnect_fields = set(re.findall(r"(\w+)(?:\s*=[^;]*)?;", reconnect))
    assert reconnect_fields == {"enabled", "delay_ms", "max_delay_ms", "give_up_ms", "jitter_percent"}
    assert {"proxy", "proxy_from_env", "headers"} <= fields and tls_fields == {"ca_file", "server_name", "accept_invalid_certs"}
    make_options = body(code(CLIENT_CPP), "MakeOptions")
    set_fields = set(re.findall(r"Options\.(\w+)", make_options)) | set(re.findall(r"Options\.(\w+)\)", make_options))
    set_tls = set(re.findall(r"Options\.tls\.(\w+)", make_options))
    set_reconnect = set(re.findall(r"Options\.reconnect\.(\w+)", make_options))
    assert reconnect_fields - set_reconnect == set(), f"reconnect options not settable: {sorted(reconnect_fields - set_reconnect)}"
    assert fields - set_fields == set(), f"not settable on UWsBridgeClient: {sorted(fields - set_fields)}"
    assert tls_fields - set_tls == set(), f"TLS options not settable: {sorted(tls_fields - set_tls)}"
    header = CLIENT_H.read_text()
    for prop in ("TlsCaFile", "TlsServerName", "bTlsAcceptInvalidCerts", "Proxy", "bProxyFromEnvironment",
                 "bReconnect", "ReconnectDelayMs", "ReconnectMaxDelayMs", "ReconnectGiveUpMs", "ReconnectJitterPercent"):
        assert re.search(rf"UPROPERTY\([^)]*\)\s*\n\s*\w+ {prop}\b", header), prop


def test_lockstep_exchange_says_message_timeout_closed_or_reconnected() -> None:
    header = CLIENT_H.read_text()
    assert re.search(r"EWsBridgeReceiveResult Exchange\(", header)
    assert re.search(r"EWsBridgeReceiveResult ExchangeBinary\(", header)
    types = (PLUGIN / "Source" / "WsBridge" / "Public" / "WsBridgeTypes.h").read_text()
    enum = re.search(r"enum class EWsBridgeReceiveResult : uint8\s*\{(.*?)\};", types, re.S).group(1)
    assert re.findall(r"^\t(\w+),?$", enum, re.M) == ["Message", "Timeout", "Closed", "Reconnected"]


def test_subsystem_keeps_a_client_across_level_loads() -> None:
    header = (PLUGIN / "Source" / "WsBridge" / "Public" / "WsBridgeSubsystem.h").read_text()
    assert re.search(r"class WSBRIDGE_API UWsBridgeSubsystem : public UGameInstanceSubsystem, public FTickableGameObject", header)
    assert "TObjectPtr<UWsBridgeClient> Client;" in header and "UPROPERTY()" in header
    source = code(PLUGIN / "Source" / "WsBridge" / "Private" / "WsBridgeSubsystem.cpp")
    assert "NewObject<UWsBridgeClient>(this" in body(source, "Initialize")
    assert "Client->Pump()" in body(source, "Tick")
    assert "IsTickableWhenPaused() const override { return true; }" in header


def test_sample_uses_only_what_the_component_declares() -> None:
    header = code(CLIENT_H)
    declared_members = set(re.findall(r"\b(\w+)\s*(?:\(|;|=)", header))
    sample = "\n".join(code(p) for p in sorted(SAMPLES.glob("*.cpp")) + sorted(SAMPLES.glob("*.h")))
    used = set(re.findall(r"Bridge->(\w+)", sample))
    assert used and used - declared_members == set(), f"not in UWsBridgeClient: {sorted(used - declared_members)}"
    assert "CreateDefaultSubobject<UWsBridgeClient>" in sample


def test_every_env_option_reaches_the_options_builders() -> None:
    """Every key wsb_env_open's options accept (ENV_OPTION_NAMES in src/env/options.rs) is
    written by wsbridge::EnvOptions::to_json and by the C# EnvOptions.ToJson, and documented in
    docs/env.md; the Unreal env settings set the lobby's options."""
    source = (ROOT / "src" / "env" / "options.rs").read_text()
    block = re.search(r"ENV_OPTION_NAMES: &\[&str\] = &\[(.*?)\];", source, re.S).group(1)
    names = re.findall(r'"(\w+)"', block)
    assert {"lobby", "env_name", "lobby_return_ms"} <= set(names), names
    cpp = (ROOT / "bindings" / "cpp" / "wsbridge_env.hpp").read_text()
    cpp_json = cpp[cpp.index("struct EnvOptions"):]
    cpp_json = cpp_json[cpp_json.index("to_json"):cpp_json.index("return json;")]
    csharp = (ROOT / "bindings" / "unity" / "Runtime" / "EnvSpec.cs").read_text()
    csharp = csharp[csharp.index("class EnvOptions"):]
    csharp = csharp[csharp.index("ToJson()"):csharp.index("return json")]
    docs = (ROOT / "docs" / "env.md").read_text()
    for name in names:
        assert re.search(rf'\\?"{name}\\?"', cpp_json), f"wsbridge::EnvOptions does not write {name}"
        assert f'"{name}"' in csharp, f"the C# EnvOptions does not write {name}"
        assert f"| `{name}` |" in docs, f"docs/env.md's options table lacks {name}"
    academy = code(PLUGIN / "Source" / "WsBridge" / "Private" / "WsBridgeAcademy.cpp")
    for field in ("lobby", "env_name", "lobby_return_ms"):
        assert f"Options.{field} =" in academy, f"the Unreal env settings do not set {field}"
