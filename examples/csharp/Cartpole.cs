// cartpole in C#: the C game of examples/game (the same physics, command line and exit status)
// written on the Unity package's env API: one EnvAgent per cart, stepped by an EnvDriver, the
// code path of the WsbridgeAgent and WsbridgeAcademy components, without Unity types.
//
//     mono Cartpole.exe HUB_URL ENV_ID [--agents K] [--max-steps N] [--token T]
//                       [--reconnect-timeout SECONDS] [--quiet]
//
// Connects to HUB_URL/env/ENV_ID with K carts and answers the trainer until it closes with 1000
// (exit 0); 1 when the hub could not be reached in time, 2 when it refused the game or the
// trainer broke the protocol. Build: mcs -r:Wsbridge.dll Cartpole.cs (make test-unity does).

using System;
using Wsbridge;

namespace Wsbridge.Examples
{
    /// <summary>The cart-pole task of Barto, Sutton and Anderson (1983), as examples/game/cartpole.c.</summary>
    public sealed class CartPole
    {
        public const double XLimit = 2.4;
        public const double ThetaLimit = 12.0 * Math.PI / 180.0;
        private const double Gravity = 9.8, CartMass = 1.0, PoleMass = 0.1, HalfLength = 0.5, Push = 10.0, Dt = 0.02;

        public double X, XDot, Theta, ThetaDot;
        public ulong Rng;
        public int Steps;
        public int MaxSteps = 500;

        public enum End { Running, PoleFell, OffTrack, TimeLimit }

        // splitmix64, as the C game, so a seed gives the same initial states in both.
        private ulong NextRandom()
        {
            ulong z = Rng += 0x9e3779b97f4a7c15UL;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
            return z ^ (z >> 31);
        }

        private double Uniform(double low, double high)
        {
            return low + (high - low) * (NextRandom() >> 11) * (1.0 / (1UL << 53));
        }

        public void Reset()
        {
            X = Uniform(-0.05, 0.05);
            XDot = Uniform(-0.05, 0.05);
            Theta = Uniform(-0.05, 0.05);
            ThetaDot = Uniform(-0.05, 0.05);
            Steps = 0;
        }

        public End Step(int action)
        {
            double totalMass = CartMass + PoleMass, poleMoment = PoleMass * HalfLength;
            double force = action != 0 ? Push : -Push;
            double sin = Math.Sin(Theta), cos = Math.Cos(Theta);
            double common = (force + poleMoment * ThetaDot * ThetaDot * sin) / totalMass;
            double thetaAcc = (Gravity * sin - cos * common) / (HalfLength * (4.0 / 3.0 - PoleMass * cos * cos / totalMass));
            double xAcc = common - poleMoment * thetaAcc * cos / totalMass;
            X += Dt * XDot;
            XDot += Dt * xAcc;
            Theta += Dt * ThetaDot;
            ThetaDot += Dt * thetaAcc;
            Steps++;
            if (Math.Abs(Theta) > ThetaLimit) return End.PoleFell;
            if (Math.Abs(X) > XLimit) return End.OffTrack;
            if (Steps >= MaxSteps) return End.TimeLimit;
            return End.Running;
        }
    }

    /// <summary>One cart as an agent: what a Unity developer writes in a WsbridgeAgent subclass.</summary>
    public sealed class CartpoleAgent : EnvAgent
    {
        public readonly CartPole Cart = new CartPole();

        // The observation space the game declares: x, x', theta, theta' as float32.
        public static EnvSpace ObservationSpace()
        {
            double m = float.MaxValue, x = 2 * CartPole.XLimit, t = 2 * CartPole.ThetaLimit;
            return EnvSpace.Box(new[] { -x, -m, -t, -m }, new[] { x, m, t, m }, new[] { 4 });
        }

        public override void OnEpisodeBegin()
        {
            if (EpisodeSeed >= 0) Cart.Rng = (ulong)EpisodeSeed; // reset(seed=...): reproducible
            Cart.Reset();
        }

        public override void CollectObservations(ObservationWriter sensor)
        {
            sensor.AddObservation((float)Cart.X);
            sensor.AddObservation((float)Cart.XDot);
            sensor.AddObservation((float)Cart.Theta);
            sensor.AddObservation((float)Cart.ThetaDot);
        }

        public override void OnActionReceived(ActionBuffers actions)
        {
            CartPole.End end = Cart.Step(actions.DiscreteActions[0]); // Discrete(2): 0 left, 1 right
            AddReward(1f);
            if (end == CartPole.End.PoleFell || end == CartPole.End.OffTrack)
            {
                SetInfo(end == CartPole.End.PoleFell ? "{\"end\": \"pole_fell\"}" : "{\"end\": \"off_track\"}");
                EndEpisode();
            }
            else if (end == CartPole.End.TimeLimit)
            {
                SetInfo("{\"end\": \"time_limit\"}");
                EpisodeInterrupted();
            }
        }
    }

    internal static class CartpoleGame
    {
        private const string Usage =
            "usage: Cartpole.exe HUB_URL ENV_ID [--agents K] [--max-steps N] [--token T]\n" +
            "                    [--reconnect-timeout SECONDS] [--quiet]\n" +
            "  e.g. `mono Cartpole.exe ws://127.0.0.1:8001 3` connects to ws://127.0.0.1:8001/env/3";

        private static int Main(string[] args)
        {
            string hub = null, slot = null, token = null;
            int agents = 1, maxSteps = 500;
            double reconnectTimeout = 30;
            bool quiet = false;
            try
            {
                for (int i = 0; i < args.Length; i++)
                {
                    string a = args[i];
                    bool more = i + 1 < args.Length;
                    if (a == "--quiet") quiet = true;
                    else if (a == "--agents" && more) agents = int.Parse(args[++i]);
                    else if (a == "--max-steps" && more) maxSteps = int.Parse(args[++i]);
                    else if (a == "--token" && more) token = args[++i];
                    else if (a == "--reconnect-timeout" && more) reconnectTimeout = double.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
                    else if (a.StartsWith("--")) throw new FormatException(a);
                    else if (hub == null) hub = a;
                    else if (slot == null) slot = a;
                    else throw new FormatException(a);
                }
            }
            catch (FormatException)
            {
                slot = null;
            }
            if (slot == null || agents < 1 || agents > 65536 || maxSteps < 1)
            {
                Console.Error.WriteLine(Usage);
                return 2;
            }
            string path = "/env/" + slot;
            string url = hub.TrimEnd('/') + path;
            var options = new EnvOptions
            {
                Connection = new WsOptions { ConnectTimeoutMs = 5000 },
                ReconnectGiveUpMs = (int)(reconnectTimeout * 1000),
                Token = token,
            };
            Action<string> say = text => { if (!quiet) Console.WriteLine("cartpole " + path + ": " + text); };

            using (var driver = new EnvDriver(url, CartpoleAgent.ObservationSpace(), EnvSpace.Discrete(2), options, "cartpole"))
            {
                for (int i = 0; i < agents; i++)
                {
                    var agent = new CartpoleAgent();
                    agent.Cart.MaxSteps = maxSteps;
                    agent.Cart.Rng = DefaultSeed(path, i);
                    driver.Register(agent);
                }
                driver.Lockstep = true; // wait for each request of the trainer: the fastest loop
                driver.ConnectionEvent += ev =>
                {
                    if (ev.Kind == EnvEventKind.Disconnected) say("connection lost (" + ev.CloseCode + " " + ev.Cause + "); reconnecting");
                    else if (ev.Kind == EnvEventKind.Finished) say("the trainer finished (" + driver.Error + ")");
                    else say("connected to " + url.Split('?')[0] + " (connection " + ev.Connection + ", " + agents + " agent" +
                             (agents > 1 ? "s" : "") + ", wsbridge " + WsRuntime.Version + ", C# " + Environment.Version + ")");
                };
                try
                {
                    driver.Open();
                }
                catch (WsException e)
                {
                    Console.Error.WriteLine("cartpole " + path + ": " + e.Message);
                    return 2;
                }
                while (driver.Running && !driver.Finished) driver.Update();
                if (driver.Finished) return 0;
                Console.Error.WriteLine("cartpole " + path + ": " + driver.Error);
                WsResult r = driver.Result;
                return r == WsResult.EnvRefused || r == WsResult.EnvProtocolError || r == WsResult.EnvVersionMismatch ? 2 : 1;
            }
        }

        // The seed of a cart that was never seeded: FNV-1a of the path plus the agent, as the C game.
        private static ulong DefaultSeed(string path, int agent)
        {
            ulong s = 1469598103934665603UL;
            foreach (char c in path) s = (s ^ (byte)c) * 1099511628211UL;
            return s + (ulong)agent;
        }
    }
}
