"""docs/train-unity.md is the tested code: its agent (a WsbridgeAgent subclass) is compiled with
the package's Unity components (WsbridgeAcademy.cs, WsbridgeAgent.cs) under Mono, against a
stand-in for the few UnityEngine types they use, and driven as the engine would (Awake, Start,
then FixedUpdate frame after frame); its ten lines of Python run against it, in lockstep and in
per-frame mode. The slot comes from the player command line (-wsbridge-url, -wsbridge-slot), or
from a lobby (-wsbridge-lobby)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import wsbridge
from lobby_process import LobbyProcess  # tests/servers, on the path by conftest.py

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "train-unity.md"
RUNTIME = ROOT / "bindings" / "unity" / "Runtime"
BUILD = ROOT / "build" / "csharp"

UNITY_STAND_IN = """
namespace UnityEngine
{
    public class Object { public string name = ""; }
    public class Component : Object { }
    public class Behaviour : Component { public bool enabled = true; }
    public class MonoBehaviour : Behaviour { }
    public sealed class SerializeField : System.Attribute { }
    public sealed class TooltipAttribute : System.Attribute { public TooltipAttribute(string t) { } }
    public sealed class HeaderAttribute : System.Attribute { public HeaderAttribute(string h) { } }
    public sealed class AddComponentMenu : System.Attribute { public AddComponentMenu(string m) { } }
    public sealed class DefaultExecutionOrder : System.Attribute { public DefaultExecutionOrder(int o) { } }
    public static class Mathf { public static float Abs(float f) { return System.Math.Abs(f); } }
    public static class Time { public static float timeScale = 1; }
    public static class Application { public static int targetFrameRate = -1; }
    public static class QualitySettings
    {
        public static int level;
        public static void SetQualityLevel(int index, bool applyExpensiveChanges) { level = index; }
    }
    public static class Debug
    {
        public static void Log(object m, Object context = null) { System.Console.WriteLine("Debug.Log: " + m); }
        public static void LogError(object m, Object context = null) { System.Console.WriteLine("Debug.LogError: " + m); }
    }
}
"""

DRIVER = """
using System;
using System.Reflection;
using System.Threading;
using Wsbridge;

internal static class DocDriver
{
    private static void Call(object target, string name)
    {
        target.GetType().GetMethod(name, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public).Invoke(target, null);
    }

    // DocGame.exe MODE AGENTS -wsbridge-url URL -wsbridge-slot N: the engine's part.
    private static int Main(string[] args)
    {
        var academy = new WsbridgeAcademy();
        typeof(WsbridgeAcademy).GetField("observationSize", BindingFlags.Instance | BindingFlags.NonPublic).SetValue(academy, 2);
        typeof(WsbridgeAcademy).GetField("discreteBranches", BindingFlags.Instance | BindingFlags.NonPublic).SetValue(academy, new[] { 3 });
        bool perFrame = args[0] == "per-frame";
        academy.Mode = perFrame ? WsbridgeAcademy.DriveMode.PerFrame : WsbridgeAcademy.DriveMode.Lockstep;
        Call(academy, "Awake");
        int n = int.Parse(args[1]);
        var agents = new BalanceAgent[n];
        for (int i = 0; i < n; i++)
        {
            agents[i] = new BalanceAgent();
            Call(agents[i], "Start");
        }
        Console.WriteLine("url " + academy.Url);
        int frames = 0;
        do
        {
            Call(academy, "FixedUpdate");
            frames++;
            if (perFrame) Thread.Sleep(1); // the rest of the frame: rendering
        } while (academy.Driver != null && academy.Driver.Running);
        int episodes = 0;
        foreach (var a in agents) episodes += a.CompletedEpisodes;
        Console.WriteLine("engine " + UnityEngine.Time.timeScale + " " + UnityEngine.Application.targetFrameRate + " " +
                          UnityEngine.QualitySettings.level);
        Console.WriteLine("frames " + frames + ", episodes " + episodes + ", finished " + academy.Driver.Finished +
                          ", " + academy.Driver.Result + " " + academy.Driver.Error);
        Call(academy, "OnDestroy");
        return academy.Driver.Finished && episodes > 0 ? 0 : 1;
    }
}
"""


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.S)


@pytest.fixture(scope="module")
def game(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("doc")
    (agent,) = [b for b in blocks("csharp") if "class BalanceAgent : WsbridgeAgent" in b]
    (tmp / "BalanceAgent.cs").write_text(agent)
    (tmp / "UnityStandIn.cs").write_text(UNITY_STAND_IN)
    (tmp / "DocDriver.cs").write_text(DRIVER)
    for name in ("Wsbridge.dll", "libwsbridge.so"):
        shutil.copy(BUILD / name, tmp / name)
    exe = tmp / "DocGame.exe"
    sources = [tmp / "UnityStandIn.cs", RUNTIME / "WsbridgeAcademy.cs", RUNTIME / "WsbridgeAgent.cs",
               tmp / "BalanceAgent.cs", tmp / "DocDriver.cs"]
    proc = subprocess.run(
        ["mcs", "-langversion:7.2", "-warnaserror+", "-nologo", "-define:UNITY_5_3_OR_NEWER",
         f"-r:{tmp / 'Wsbridge.dll'}", f"-out:{exe}", *map(str, sources)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return exe


@pytest.mark.parametrize("mode", ["lockstep", "per-frame"])
def test_the_pages_agent_is_stepped_by_the_pages_trainer(game: Path, mode: str, monkeypatch, capsys) -> None:
    (python,) = blocks("python")
    python = python.replace("RemoteVectorEnv(hub)", "RemoteVectorEnv(hub, connect_timeout=60)")  # fail, not hang
    assert len(python.strip().splitlines()) <= 10, "the Python side in ten lines"
    assert "port=8001" in python
    started: list[subprocess.Popen[str]] = []
    enter = wsbridge.Hub.__enter__

    def enter_and_launch(hub: wsbridge.Hub) -> wsbridge.Hub:  # the user presses Play
        enter(hub)
        started.append(subprocess.Popen(
            ["mono", "--debug", str(game), mode, "3", "-wsbridge-url", hub.url(), "-wsbridge-slot", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=game.parent))
        return hub

    monkeypatch.setattr(wsbridge.Hub, "__enter__", enter_and_launch)
    try:
        exec(compile(python.replace("port=8001", "port=0"), str(DOC), "exec"), {})
        out, _ = started[0].communicate(timeout=120)
    finally:
        for p in started:
            if p.poll() is None:
                p.kill()
                p.wait()
    printed = capsys.readouterr().out
    assert re.search(r"^3 agents, mean reward per step 0\.\d\d$", printed, re.M), printed
    assert started[0].returncode == 0, out
    assert "url ws://127.0.0.1:" in out and "/env/0" in out and "finished True, Ok 1000 training finished" in out, out


def test_the_pages_agent_finds_its_slot_through_a_lobby(game: Path) -> None:
    """The same build launched with -wsbridge-lobby instead of a hub and slot: the academy asks
    a real lobby for a free slot (per-frame, so the wait never blocks a frame) and trains there."""
    lobby = LobbyProcess()
    hub = wsbridge.Hub(port=0, games=1, lobby=lobby.url("/lobby/hubs"), hub_id="unity", env_name="balance").start()
    proc = None
    try:
        lobby.expect("hub unity registered")
        proc = subprocess.Popen(["mono", "--debug", str(game), "per-frame", "2", "-wsbridge-lobby", lobby.url(),
                                 "-wsbridge-env-name", "balance"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=game.parent)
        env = wsbridge.RemoteVectorEnv(hub, connect_timeout=60, progress=False)
        env.reset(seed=0)
        for _ in range(1000):
            env.step(env.action_space.sample())
        env.close()
        hub.close()  # 1000: the academy finishes and the game exits
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        hub.close()
        lobby.close()
    assert proc.returncode == 0, out
    assert f"url {lobby.url()}" in out and f"Connected (connection 1), slot {hub.url(0)}" in out, out
    assert "finished True, Ok 1000 training finished" in out, out


@pytest.mark.parametrize("mode", ["lockstep", "per-frame"])
def test_the_academy_resets_in_the_same_step_and_applies_engine_settings(game: Path, mode: str) -> None:
    """The page's agent under the academy's defaults (Partial Reset, Apply Engine Settings), with
    SAME_STEP autoreset: no junk step (every reward is the agent's 1), each ended episode's final
    observation (the ball off the board) comes with the next one's first (a new ball at rest);
    the trainer's engine settings reach Time.timeScale, Application.targetFrameRate and
    QualitySettings."""
    with wsbridge.Hub(games=1, port=0) as hub:
        proc = subprocess.Popen(["mono", "--debug", str(game), mode, "2", "-wsbridge-url", hub.url(), "-wsbridge-slot", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=game.parent)
        try:
            env = wsbridge.RemoteVectorEnv(hub, connect_timeout=60, progress=False, autoreset_mode=AutoresetMode.SAME_STEP)
            env.reset(seed=0)
            env.set_engine_settings(time_scale=20, target_frame_rate=-1, quality_level=2)
            ended = 0
            for _ in range(300):  # no tilt: the ball rolls off within a few dozen steps
                obs, reward, terminated, truncated, info = env.step(np.ones(2, dtype=np.int64))
                assert reward.tolist() == [1.0, 1.0]
                for i in np.flatnonzero(terminated | truncated):
                    ended += 1
                    assert terminated[i] and abs(info["final_obs"][i][0]) > 1, info
                    assert abs(obs[i][0]) <= 0.5 and obs[i][1] == 0, obs[i]
            env.close()
            hub.close()
            out, _ = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert ended >= 4 and "engine 20 -1 2" in out and "finished True, Ok" in out, (ended, out)
