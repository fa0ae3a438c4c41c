// The C# game of the env conformance suite (tests/conformance, implementation "csharp"): the
// contract of spaces_game.c (same command line, behaviour and stdout lines; read it there),
// through the Unity package's WsEnv and typed EnvSpace declarations under Mono: a dict observation
// set part by part (ObservationPart, SetObservationPart), a tuple as whole rows, same-step
// autoreset (EnvSpec.PartialReset), engine settings (the Settings event).
//
//     mono SpacesGame.exe URL [--agents K] [--obs KIND] [--act KIND] [--episode N] [--poll]
//                             [--decision-period N] [--no-repeat] [--give-up-ms MS] [--token T]
//                             [--same-step] [--lobby [--env-name NAME]]

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using Wsbridge;

internal static unsafe class SpacesGame
{
    private static readonly string[] Kinds = { "box_f32", "box_f64", "image", "box_i16", "discrete", "multi_discrete", "multi_binary", "dict", "tuple" };

    private static EnvSpace Space(string kind)
    {
        switch (kind)
        {
            // Keys out of order on purpose: the parts are the leaves with dict keys sorted.
            case "dict":
                return EnvSpace.Dict(new Dictionary<string, EnvSpace> { { "pos", Space("box_f32") }, { "camera", Space("image") }, { "mode", Space("discrete") } });
            case "tuple":
                return EnvSpace.Tuple(Space("box_i16"), EnvSpace.Dict(new Dictionary<string, EnvSpace> { { "bits", Space("multi_binary") } }));
            case "box_f32": return EnvSpace.Box(-1, 1, new[] { 3 }, EnvDType.Float32);
            case "box_f64": return EnvSpace.Box(-1, 1, new[] { 2, 2 }, EnvDType.Float64);
            case "image": return EnvSpace.Box(0, 255, new[] { 16, 16, 3 }, EnvDType.UInt8);
            case "box_i16": return EnvSpace.Box(-100, 100, new[] { 4 }, EnvDType.Int16);
            case "discrete": return EnvSpace.Discrete(5, 2);
            case "multi_discrete": return EnvSpace.MultiDiscrete(3, 4, 5);
            default: return EnvSpace.MultiBinary(2, 3);
        }
    }

    private static ulong NextRandom(ref ulong state)
    {
        ulong z = state += 0x9e3779b97f4a7c15UL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }

    // One observation row drawn from `rng`, written as the space's wire items (a dict or tuple:
    // its parts' rows one after the other, drawn in that order).
    private static void Draw(string kind, EnvSpace space, ref ulong rng, byte[] row)
    {
        if (space.IsComposite)
        {
            foreach (EnvSpacePart part in space.Parts)
                DrawLeaf(LeafKind(kind, part.Path), ref rng, row, part.Offset, part.Space.Items);
            return;
        }
        DrawLeaf(kind, ref rng, row, 0, space.Items);
    }

    private static string LeafKind(string kind, string path)
    {
        switch (path)
        {
            case "camera": return "image";
            case "mode": return "discrete";
            case "pos": return "box_f32";
            case "0": return "box_i16";
            case "1.bits": return "multi_binary";
            default: throw new ArgumentException("no part " + path + " in " + kind);
        }
    }

    private static void DrawLeaf(string kind, ref ulong rng, byte[] row, int offset, int items)
    {
        long[] nvec = { 3, 4, 5 };
        fixed (byte* start = row)
        {
            byte* o = start + offset;
            for (int j = 0; j < items; j++)
            {
                ulong r = NextRandom(ref rng);
                double unit = (r >> 11) * (1.0 / (1UL << 53)) * 2.0 - 1.0;
                switch (kind)
                {
                    case "box_f32": ((float*)o)[j] = (float)unit; break;
                    case "box_f64": ((double*)o)[j] = unit; break;
                    case "image": o[j] = (byte)r; break;
                    case "box_i16": ((short*)o)[j] = (short)((long)(r % 201) - 100); break;
                    case "discrete": ((long*)o)[0] = 2 + (long)(r % 5); break;
                    case "multi_discrete": ((long*)o)[j] = (long)(r % (ulong)nvec[j]); break;
                    default: o[j] = (byte)(r & 1); break;
                }
            }
        }
    }

    // The action row's items as a JSON list.
    private static string Format(string kind, byte[] row, int items)
    {
        var s = new StringBuilder("[");
        fixed (byte* a = row)
        {
            for (int j = 0; j < items; j++)
            {
                if (j > 0) s.Append(',');
                switch (kind)
                {
                    case "box_f32": s.Append(((float*)a)[j].ToString("G9", CultureInfo.InvariantCulture)); break;
                    case "box_f64": s.Append(((double*)a)[j].ToString("G17", CultureInfo.InvariantCulture)); break;
                    case "image": s.Append(a[j]); break;
                    case "box_i16": s.Append(((short*)a)[j]); break;
                    case "multi_binary": s.Append((sbyte)a[j]); break;
                    default: s.Append(((long*)a)[j]); break;
                }
            }
        }
        return s.Append(']').ToString();
    }

    private static int Fail(string what, WsEnv env, WsResult r, string message)
    {
        WsCloseStatus? status = env == null ? null : env.CloseStatus;
        if (r == WsResult.EnvRefused && status.HasValue)
            Console.WriteLine("error " + Name(r) + ": " + status.Value.Code + " " + status.Value.Reason + ": " + Strip(message));
        else
            Console.WriteLine("error " + Name(r) + ": " + Strip(message) + " (in " + what + ")");
        if (env != null) env.Dispose();
        WsRuntime.Shutdown(1000);
        return 2;
    }

    // "WSB_X: message" (WsException, WsEnv.LastError) -> "message", as wsb_last_error has it.
    private static string Strip(string message)
    {
        int colon = message.IndexOf(": ", StringComparison.Ordinal);
        return message.StartsWith("WSB_", StringComparison.Ordinal) && colon > 0 ? message.Substring(colon + 2) : message;
    }

    // WsResult.EnvRefused -> "WSB_ENV_REFUSED", as wsb_result_name says.
    private static string Name(WsResult r)
    {
        var s = new StringBuilder("WSB");
        foreach (char c in r.ToString())
        {
            if (char.IsUpper(c)) s.Append('_');
            s.Append(char.ToUpperInvariant(c));
        }
        return s.ToString();
    }

    private static int Main(string[] args)
    {
        string url = null, token = null, obsKind = "box_f32", actKind = "discrete", envName = null;
        int agents = 1, episode = 4, period = 1, giveUp = 30000;
        bool poll = false, repeat = true, sameStep = false, lobby = false;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            bool more = i + 1 < args.Length;
            if (a == "--agents" && more) agents = int.Parse(args[++i]);
            else if (a == "--obs" && more) obsKind = args[++i];
            else if (a == "--act" && more) actKind = args[++i];
            else if (a == "--episode" && more) episode = int.Parse(args[++i]);
            else if (a == "--decision-period" && more) period = int.Parse(args[++i]);
            else if (a == "--give-up-ms" && more) giveUp = int.Parse(args[++i]);
            else if (a == "--token" && more) token = args[++i];
            else if (a == "--poll") poll = true;
            else if (a == "--lobby") lobby = true;
            else if (a == "--env-name" && more) envName = args[++i];
            else if (a == "--no-repeat") repeat = false;
            else if (a == "--same-step") sameStep = true;
            else if (url == null && !a.StartsWith("-")) url = a;
            else
            {
                Console.Error.WriteLine("spaces_game: bad argument " + a + " (see the comment at the top of spaces_game.c)");
                return 2;
            }
        }
        if (url == null || agents < 1 || episode < 1 || period < 1 || Array.IndexOf(Kinds, obsKind) < 0 || Array.IndexOf(Kinds, actKind) < 0)
        {
            Console.Error.WriteLine("usage: SpacesGame.exe URL [--agents K] [--obs KIND] [--act KIND] ...");
            return 2;
        }
        EnvSpace obsSpace = Space(obsKind), actSpace = Space(actKind);
        if (actSpace.IsComposite)
        {
            Console.WriteLine("error --act: dict and tuple spaces are for observations only");
            return 2;
        }
        var spec = new EnvSpec(obsSpace, actSpace, agents, "spaces") { PartialReset = sameStep };
        var options = new EnvOptions
        {
            DecisionPeriod = period,
            RepeatActions = repeat,
            ReconnectGiveUpMs = giveUp,
            Connection = new WsOptions { ConnectTimeoutMs = 2000 },
            Token = token,
            Lobby = lobby,
            EnvName = envName,
        };
        WsEnv env;
        try
        {
            env = WsEnv.Open(url, spec, options);
        }
        catch (WsException e)
        {
            return Fail("WsEnv.Open", null, e.Result, e.Message);
        }
        if (env.Agents != agents || env.ObservationBytes != obsSpace.RowBytes || env.ActionBytes != actSpace.RowBytes)
        {
            Console.WriteLine("error layout: " + env.Agents + " agents, " + env.ObservationBytes + " and " + env.ActionBytes + " bytes per row");
            return 2;
        }
        // A dict's parts are set one by one (SetObservationPart); other rows whole.
        var parts = new EnvObservationPart[obsKind == "dict" ? obsSpace.Parts.Count : 0];
        try
        {
            for (int p = 0; p < parts.Length; p++)
            {
                EnvSpacePart declared = obsSpace.Parts[p];
                parts[p] = env.ObservationPart(declared.Path);
                if (parts[p].Index != p || parts[p].Bytes != declared.Space.RowBytes)
                {
                    Console.WriteLine("error part " + declared.Path + ": index " + parts[p].Index + ", " + parts[p].Bytes + " bytes");
                    return 2;
                }
            }
        }
        catch (WsException e)
        {
            return Fail("WsEnv.ObservationPart", env, e.Result, e.Message);
        }
        if (parts.Length > 0)
        {
            try
            {
                env.ObservationPart("nope");
                Console.WriteLine("error part nope: found");
                return 2;
            }
            catch (WsException e)
            {
                if (e.Result != WsResult.InvalidArgument) return Fail("WsEnv.ObservationPart(\"nope\")", env, e.Result, e.Message);
            }
        }
        var rng = new ulong[agents];
        var t = new int[agents];
        var frames = new int[agents];
        var obs = new byte[agents][];
        var action = new byte[agents][];
        for (int i = 0; i < agents; i++)
        {
            rng[i] = 1000 + (ulong)i;
            obs[i] = new byte[env.ObservationBytes];
            action[i] = new byte[env.ActionBytes];
        }

        while (true)
        {
            EnvEvent ev;
            WsResult r = env.Next(poll ? 0 : -1, out ev);
            if (r == WsResult.Timeout && poll)
            {
                Thread.Sleep(1); // the rest of a 1 ms frame of a game loop
                continue;
            }
            if (r != WsResult.Ok) return Fail("WsEnv.Next", env, r, env.LastError);
            WsCloseStatus? status;
            switch (ev.Kind)
            {
                case EnvEventKind.Connected:
                case EnvEventKind.Reconnected:
                    Console.WriteLine((ev.Kind == EnvEventKind.Connected ? "connected " : "reconnected ") + ev.Connection);
                    if (lobby) Console.WriteLine("slot " + env.SlotUrl);
                    continue;
                case EnvEventKind.Disconnected:
                    status = env.CloseStatus;
                    Console.WriteLine("disconnected " + ev.CloseCode + " " + Name(ev.Cause) + " " + (status.HasValue ? status.Value.Reason : ""));
                    continue;
                case EnvEventKind.Finished:
                    status = env.CloseStatus;
                    Console.WriteLine("finished " + ev.CloseCode + " " + (status.HasValue ? status.Value.Reason : ""));
                    env.Dispose();
                    WsRuntime.Shutdown(1000);
                    return 0;
                case EnvEventKind.Settings:
                    try
                    {
                        Console.WriteLine("settings " + env.Settings().Json);
                    }
                    catch (WsException e)
                    {
                        return Fail("WsEnv.Settings", env, e.Result, e.Message);
                    }
                    continue;
            }
            try
            {
                for (int i = 0; i < agents; i++)
                {
                    long seed;
                    bool reset = env.AgentReset(i, out seed);
                    env.AddReward(i, 1.0 + 0.25 * i);
                    if (ev.Kind == EnvEventKind.Reset && !reset)
                    {
                        // A partial Reset (same-step autoreset): this agent's row is the step's.
                        try
                        {
                            env.SetObservation(i, obs[i]);
                            return Fail("WsEnv.SetObservation of an agent a partial Reset keeps", env, WsResult.Ok, "it did not fail");
                        }
                        catch (WsException e)
                        {
                            if (e.Result != WsResult.InvalidArgument) return Fail("WsEnv.SetObservation of an agent a partial Reset keeps", env, e.Result, e.Message);
                        }
                        continue;
                    }
                    string info;
                    if (reset)
                    {
                        env.SetDone(i, true, true); // the library must answer reset rows without it
                        if (seed >= 0) rng[i] = (ulong)seed;
                        t[i] = 0;
                        info = "{\"reset\": true}";
                    }
                    else
                    {
                        bool noAction = ev.Kind == EnvEventKind.NoDecision;
                        if (ev.Kind == EnvEventKind.Step) frames[i] = 0;
                        if (noAction)
                        {
                            try
                            {
                                env.Action(i, action[i]);
                                return Fail("WsEnv.Action without a decision", env, WsResult.Ok, "it did not fail");
                            }
                            catch (WsException e)
                            {
                                if (e.Result != WsResult.InvalidArgument) return Fail("WsEnv.Action without a decision", env, e.Result, e.Message);
                            }
                        }
                        else
                        {
                            env.Action(i, action[i]);
                        }
                        t[i]++;
                        frames[i]++;
                        if (t[i] >= episode + i) env.SetDone(i, i % 2 == 0, i % 2 == 1);
                        info = "{\"action\": " + Format(actKind, action[i], actSpace.Items) + ", \"frames\": " + frames[i] + ", \"t\": " + t[i] +
                               (noAction ? ", \"no_action\": true" : "") + "}";
                    }
                    Draw(obsKind, obsSpace, ref rng[i], obs[i]);
                    if (parts.Length > 0)
                    {
                        for (int p = 0; p < parts.Length; p++) env.SetObservationPart(i, parts[p], obs[i], obsSpace.Parts[p].Offset, parts[p].Bytes);
                    }
                    else
                    {
                        env.SetObservation(i, obs[i]);
                    }
                    env.SetInfo(i, info);
                }
                env.Submit();
            }
            catch (WsException e)
            {
                return Fail("an answer", env, e.Result, e.Message);
            }
        }
    }
}
