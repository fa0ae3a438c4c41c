"""The C# examples of bindings/unity/README.md are the tested code: the polling `Trainer`
MonoBehaviour and the `Lockstep` helper are cut out of the README, compiled with Mono's mcs
against the package's Runtime (Wsbridge.dll) and run against a real Python websockets server.

The only stand-in is UnityEngine's MonoBehaviour and Debug.Log (a few lines below), so that
the README's Unity script compiles outside Unity; a driver calls Start, Update (frame by frame)
and OnDestroy as the engine would."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from launch import Server

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "bindings" / "unity" / "README.md"
BUILD = ROOT / "build" / "csharp"

UNITY_STAND_IN = """
namespace UnityEngine
{
    public class MonoBehaviour { }
    public static class Debug
    {
        public static readonly System.Collections.Generic.List<string> Logs = new System.Collections.Generic.List<string>();
        public static void Log(object message) { System.Console.WriteLine("Debug.Log: " + message); Logs.Add(message.ToString()); }
    }
}
"""

DRIVER = """
using System;
using System.Diagnostics;
using System.Reflection;
using System.Threading;
using Wsbridge;

internal static class ReadmeDriver
{
    // The engine's part: Start, then Update once per frame until `what` is logged, then OnDestroy.
    private static void Run(string what)
    {
        UnityEngine.Debug.Logs.Clear();
        var trainer = new Trainer();
        Call(trainer, "Start");
        var clock = Stopwatch.StartNew();
        while (!UnityEngine.Debug.Logs.Exists(l => l.Contains(what)))
        {
            if (clock.ElapsedMilliseconds > 15000) throw new Exception("no log containing " + what + " in 15000 ms of frames");
            Call(trainer, "Update");
            Thread.Sleep(1); // the rest of the frame
        }
        Call(trainer, "OnDestroy");
    }

    private static void Call(object target, string name)
    {
        target.GetType().GetMethod(name, BindingFlags.Instance | BindingFlags.NonPublic).Invoke(target, null);
    }

    private static int Main(string[] args)
    {
        string mode = args[0];
        if (mode == "echo") Run("trainer says: {\\"hello\\": 1}");
        else if (mode == "close") Run("closed: 4000 episode over");
        else if (mode == "lockstep")
        {
            var reply = new WsMessage();
            string action;
            using (var client = WsClient.Connect(args[1]))
            {
                if (!Lockstep.Step(client, reply, "{\\"obs\\": 1}", out action) || action != "{\\"obs\\": 1}")
                    throw new Exception("lockstep step against /echo: " + action);
            }
            using (var client = WsClient.Connect(args[2]))
            {
                if (!Lockstep.Step(client, reply, "{\\"obs\\": 2}", out action) || action != "closing")
                    throw new Exception("the message before the close: " + action);
                if (Lockstep.Step(client, reply, "{\\"obs\\": 3}", out action))
                    throw new Exception("Step went on after the close: " + action);
            }
        }
        Console.WriteLine("passed " + mode);
        return 0;
    }
}
"""


def csharp_blocks() -> list[str]:
    return re.findall(r"```csharp\n(.*?)```", README.read_text(), re.S)


def build(tmp: Path, url: str) -> Path:
    blocks = [b for b in csharp_blocks() if "class Trainer : MonoBehaviour" in b or "static class Lockstep" in b]
    assert len(blocks) == 2, "the README's Trainer and Lockstep examples"
    usings = sorted({line for b in blocks for line in b.splitlines() if line.startswith("using ")})
    bodies = ["\n".join(l for l in b.splitlines() if not l.startswith("using ")) for b in blocks]
    source = "\n".join(usings) + "\n" + "\n".join(bodies).replace("ws://127.0.0.1:8001/env/0", url)
    (tmp / "Readme.cs").write_text(source)
    (tmp / "UnityStandIn.cs").write_text(UNITY_STAND_IN)
    (tmp / "ReadmeDriver.cs").write_text(DRIVER)
    for name in ("Wsbridge.dll", "libwsbridge.so"):
        shutil.copy(BUILD / name, tmp / name)
    exe = tmp / "Readme.exe"
    proc = subprocess.run(
        ["mcs", "-langversion:7.2", "-warnaserror+", "-nologo", f"-r:{tmp / 'Wsbridge.dll'}", f"-out:{exe}",
         str(tmp / "UnityStandIn.cs"), str(tmp / "Readme.cs"), str(tmp / "ReadmeDriver.cs")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return exe


def run(exe: Path, *args: str) -> None:
    proc = subprocess.run(["mono", "--debug", str(exe), *args], capture_output=True, text=True, timeout=120, cwd=exe.parent)
    assert proc.returncode == 0 and f"passed {args[0]}" in proc.stdout, proc.stdout + proc.stderr


def test_readme_polling_example_receives_the_echo(tmp_path: Path) -> None:
    with Server("wsserver.py") as server:
        run(build(tmp_path, server.url("/echo")), "echo")


def test_readme_polling_example_reports_the_close(tmp_path: Path) -> None:
    with Server("wsserver.py") as server:
        run(build(tmp_path, server.url("/close/4000/episode%20over")), "close")


def test_readme_lockstep_example_tells_a_close_from_a_message(tmp_path: Path) -> None:
    with Server("wsserver.py") as server:
        run(build(tmp_path, server.url("/unused")), "lockstep", server.url("/echo"), server.url("/close/1000"))


def test_readme_reconnect_example_compiles(tmp_path: Path) -> None:
    """The Reconnect section's example, as the body of a method (its loop is a frame's Update),
    against the package: every name it uses exists with the types it assumes."""
    blocks = [b for b in csharp_blocks() if "Reconnect = true" in b]
    assert len(blocks) == 1, "the README's reconnect example"
    source = (
        "using Wsbridge;\ninternal static class ReconnectExample\n{\n"
        "    private static readonly string hello = \"{\\\"hello\\\": 1}\";\n"
        "    private static readonly WsMessage message = new WsMessage();\n"
        "    private static void Handle(WsMessage m) { }\n"
        "    private static void Main()\n    {\n" + blocks[0] + "\n    }\n}\n"
    )
    (tmp_path / "Reconnect.cs").write_text(source)
    shutil.copy(BUILD / "Wsbridge.dll", tmp_path / "Wsbridge.dll")
    proc = subprocess.run(
        ["mcs", "-langversion:7.2", "-warnaserror+", "-nologo", f"-r:{tmp_path / 'Wsbridge.dll'}",
         f"-out:{tmp_path / 'Reconnect.exe'}", str(tmp_path / "Reconnect.cs")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, source + proc.stdout + proc.stderr
