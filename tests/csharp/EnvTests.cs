// The env API of the package (WsEnv, EnvSpec, EnvDriver, EnvAgent): the JSON the typed
// declarations make, and, against the real trainer package (tests/csharp/test_env.py starts a
// Hub and steps it with RemoteVectorEnv), the driver's zero-allocation steady state and
// per-frame polling that never blocks a frame, and same-step autoreset of a dict observation
// with engine settings.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;

namespace Wsbridge.Tests
{
    // A small agent: observes [step, last action, sum of actions], rewards the action, ends
    // its episode every `length` steps. Allocates nothing per step.
    internal sealed class CountingAgent : EnvAgent
    {
        private readonly int length;
        public long ActionSum;
        public int Last;
        public int Decisions;

        public CountingAgent(int length)
        {
            this.length = length;
        }

        public override void CollectObservations(ObservationWriter sensor)
        {
            sensor.AddObservation(StepCount);
            sensor.AddObservation(Last);
            sensor.AddObservation((float)ActionSum);
        }

        public override void OnActionReceived(ActionBuffers actions)
        {
            Last = actions.DiscreteActions[0];
            ActionSum += Last;
            Decisions++;
            AddReward(Last);
            if (StepCount >= length) EpisodeInterrupted();
            else SetInfo("{\"t\": 1}");
        }
    }

    // An agent with a dict observation {"count": Discrete(1000), "flags": MultiBinary(2), "pos":
    // Box(2)}: count = episodes completed, flags = [this observation ends the episode, agent
    // index is odd], pos = [step, last action]. Rewards the action; episodes of 3 + index steps,
    // terminated for even agents, truncated for odd ones. Allocates nothing per step.
    internal sealed class SensorAgent : EnvAgent
    {
        private int last;

        private int Length { get { return 3 + AgentIndex; } }

        public override void CollectObservations(ObservationWriter sensor)
        {
            sensor.AddObservation(CompletedEpisodes);
            sensor.AddObservation(StepCount >= Length);
            sensor.AddObservation(AgentIndex % 2);
            sensor.AddObservation(StepCount);
            sensor.AddObservation(last);
        }

        public override void OnEpisodeBegin()
        {
            last = 0;
        }

        public override void OnActionReceived(ActionBuffers actions)
        {
            last = actions.DiscreteActions[0];
            AddReward(last);
            if (StepCount < Length) return;
            if (AgentIndex % 2 == 0) EndEpisode();
            else EpisodeInterrupted();
        }
    }

    public static class EnvTests
    {
        internal static readonly EnvSpace SensorSpace = EnvSpace.Dict(new Dictionary<string, EnvSpace>
        {
            { "pos", EnvSpace.Box(double.NegativeInfinity, double.PositiveInfinity, new[] { 2 }) },
            { "flags", EnvSpace.MultiBinary(2) },
            { "count", EnvSpace.Discrete(1000) },
        });

        private static readonly EnvSpace Observation = EnvSpace.Box(double.NegativeInfinity, double.PositiveInfinity, new[] { 3 });

        [Case]
        public static void SpacesAndOptionsSerialiseToTheProtocolsJson()
        {
            Check.Equal("{\"type\": \"box\", \"shape\": [16, 16, 3], \"dtype\": \"uint8\", \"low\": 0, \"high\": 255}",
                        EnvSpace.Box(0, 255, new[] { 16, 16, 3 }, EnvDType.UInt8).ToJson(), "image box");
            Check.Equal("{\"type\": \"box\", \"shape\": [3], \"dtype\": \"float32\", \"low\": \"-inf\", \"high\": \"inf\"}",
                        Observation.ToJson(), "unbounded box");
            Check.Equal("{\"type\": \"box\", \"shape\": [2, 2], \"dtype\": \"float64\", \"low\": [[-1, -2], [-3, -4.5]], \"high\": [[1, 2], [3, 4.5]]}",
                        EnvSpace.Box(new[] { -1, -2, -3, -4.5 }, new[] { 1, 2, 3, 4.5 }, new[] { 2, 2 }, EnvDType.Float64).ToJson(), "bounds per element, nested");
            Check.Equal("{\"type\": \"discrete\", \"n\": 5, \"start\": 2}", EnvSpace.Discrete(5, 2).ToJson(), "discrete");
            Check.Equal("{\"type\": \"multi_discrete\", \"nvec\": [3, 4, 5]}", EnvSpace.MultiDiscrete(3, 4, 5).ToJson(), "multi_discrete");
            Check.Equal("{\"type\": \"multi_binary\", \"n\": 4}", EnvSpace.MultiBinary(4).ToJson(), "multi_binary");
            Check.Equal("{\"type\": \"multi_binary\", \"n\": [2, 3]}", EnvSpace.MultiBinary(2, 3).ToJson(), "multi_binary 2-D");
            Check.Equal(768, EnvSpace.Box(0, 255, new[] { 16, 16, 3 }, EnvDType.UInt8).RowBytes, "image row bytes");
            Check.Equal(24, EnvSpace.MultiDiscrete(3, 4, 5).RowBytes, "multi_discrete travels as int64");
            Check.Equal("{\"name\": \"a \\\"cart\\\"\", \"agents\": 2, \"observation_space\": " + Observation.ToJson() +
                        ", \"action_space\": {\"type\": \"discrete\", \"n\": 2}}",
                        new EnvSpec(Observation, EnvSpace.Discrete(2), 2, "a \"cart\"").ToJson(), "spec");
            var options = new EnvOptions
            {
                Connection = new WsOptions { ConnectTimeoutMs = 5000 },
                Token = "s3cret",
                ReconnectGiveUpMs = -1,
                DecisionPeriod = 5,
                RepeatActions = false,
                Lobby = true,
                EnvName = "cart\"pole",
                LobbyReturnMs = 2500,
            };
            Check.Equal("{\"connection\": {\"connect_timeout_ms\": 5000}, \"token\": \"s3cret\", \"reconnect_give_up_ms\": -1, " +
                        "\"decision_period\": 5, \"repeat_actions\": false, \"lobby\": true, \"env_name\": \"cart\\\"pole\", " +
                        "\"lobby_return_ms\": 2500}", options.ToJson(), "options");
            Check.Equal("{}", new EnvOptions().ToJson(), "default options");
        }

        [Case]
        public static void SlotUrlSaysWhichSlotTheEnvIsFor()
        {
            using (var env = WsEnv.Open("ws://127.0.0.1:1/env/3?token=s3cret", new EnvSpec(Observation, EnvSpace.Discrete(2))))
                Check.Equal("ws://127.0.0.1:1/env/3?token=***", env.SlotUrl, "a fixed slot, its token redacted");
            using (var env = WsEnv.Open("ws://127.0.0.1:1/lobby", new EnvSpec(Observation, EnvSpace.Discrete(2)),
                                        new EnvOptions { Lobby = true, EnvName = "cartpole" }))
                Check.Equal("", env.SlotUrl, "no slot before the lobby assigns one");
        }

        [Case]
        public static void DictAndTupleSpacesSerialiseWithTheirPartsInWireOrder()
        {
            Check.Equal("{\"type\": \"dict\", \"spaces\": {\"count\": {\"type\": \"discrete\", \"n\": 1000}, " +
                        "\"flags\": {\"type\": \"multi_binary\", \"n\": 2}, \"pos\": {\"type\": \"box\", \"shape\": [2], " +
                        "\"dtype\": \"float32\", \"low\": \"-inf\", \"high\": \"inf\"}}}", SensorSpace.ToJson(), "dict, keys sorted");
            var tuple = EnvSpace.Tuple(EnvSpace.Box(-100, 100, new[] { 4 }, EnvDType.Int16),
                                       EnvSpace.Dict(new Dictionary<string, EnvSpace> { { "bits", EnvSpace.MultiBinary(2, 3) } }));
            Check.Equal("{\"type\": \"tuple\", \"spaces\": [{\"type\": \"box\", \"shape\": [4], \"dtype\": \"int16\", " +
                        "\"low\": -100, \"high\": 100}, {\"type\": \"dict\", \"spaces\": {\"bits\": {\"type\": \"multi_binary\", \"n\": [2, 3]}}}]}",
                        tuple.ToJson(), "tuple of a box and a dict");
            Check.True(tuple.IsComposite && !EnvSpace.Discrete(2).IsComposite, "IsComposite");
            Check.Equal("0 0 8, 1.bits 8 6", Describe(tuple), "the tuple's parts: path, offset, bytes");
            Check.Equal("count 0 8, flags 8 2, pos 10 8", Describe(SensorSpace), "the dict's parts");
            Check.Equal(18, SensorSpace.RowBytes, "a dict's row: its parts' rows");
            Check.Equal(" 0 8", Describe(EnvSpace.Discrete(3)), "a plain space is its own part");
            Check.Throws<ArgumentException>(() => new EnvSpec(SensorSpace, SensorSpace), "a dict action space");
            Check.Throws<ArgumentException>(() => EnvSpace.Tuple(), "an empty tuple");
            Check.Throws<ArgumentException>(() => EnvSpace.Dict(new Dictionary<string, EnvSpace>()), "an empty dict");
            Check.Equal("{\"agents\": 2, \"partial_reset\": true, \"observation_space\": " + SensorSpace.ToJson() +
                        ", \"action_space\": {\"type\": \"discrete\", \"n\": 3}}",
                        new EnvSpec(SensorSpace, EnvSpace.Discrete(3), 2) { PartialReset = true }.ToJson(), "a spec with partial resets");
            var bad = Check.Fails(WsResult.InvalidArgument, () => WsEnv.Open("ws://127.0.0.1:1/env/0",
                new EnvSpec(EnvSpace.Dict(new Dictionary<string, EnvSpace> { { "a b", EnvSpace.Discrete(2) } }), EnvSpace.Discrete(2)), null),
                "a key with a space");
            Check.Contains("a b", bad.Message, "the library names the bad key");
        }

        private static string Describe(EnvSpace space)
        {
            var parts = new List<string>();
            foreach (EnvSpacePart p in space.Parts) parts.Add(p.Path + " " + p.Offset + " " + p.Space.RowBytes);
            return string.Join(", ", parts);
        }

        [Case]
        public static void EngineSettingsAreReadFromTheirJson()
        {
            var s = EngineSettings.FromJson("{\"camera\": {\"name\": \"top, \\\"wide\\\"\", \"fov\": [60, 90]}, \"time_scale\": 20.5, " +
                                            "\"quality_level\": 2, \"target_frame_rate\": -1, \"fog\": null}");
            Check.Equal(20.5, s.TimeScale.Value, "time_scale");
            Check.Equal(-1, s.TargetFrameRate.Value, "target_frame_rate");
            Check.Equal(2, s.QualityLevel.Value, "quality_level");
            Check.Equal("{\"name\": \"top, \\\"wide\\\"\", \"fov\": [60, 90]}", s.Raw("camera"), "a game's own key, as JSON");
            Check.Equal("null", s.Raw("fog"), "a null");
            Check.Equal(null, s.Raw("nope"), "an absent key");
            var none = EngineSettings.FromJson("{}");
            Check.False(none.TimeScale.HasValue || none.TargetFrameRate.HasValue || none.QualityLevel.HasValue, "nothing sent");
            Check.Equal(1.5, EngineSettings.FromJson("{\"time_scale\":1.5}").TimeScale.Value, "no spaces");
            Check.Throws<FormatException>(() => EngineSettings.FromJson("[1]"), "not an object");
            Check.Throws<FormatException>(() => EngineSettings.FromJson("{\"quality_level\": 1.5}"), "a fractional quality level");
            Check.Throws<FormatException>(() => EngineSettings.FromJson("{\"time_scale\": \"fast\"}"), "a string time scale");
            Check.Throws<FormatException>(() => EngineSettings.FromJson("{\"a\": [1, 2}"), "an unterminated value");
        }

        [Case]
        public static void ABadSpecIsRefusedWithTheKeyNamed()
        {
            var e = Check.Fails(WsResult.InvalidArgument, () => WsEnv.Open("ws://127.0.0.1:1/env/0",
                "{\"agents\": 1, \"observation_space\": {\"type\": \"box\", \"shape\": [2], \"dtype\": \"float32\", \"low\": 0}, " +
                "\"action_space\": {\"type\": \"discrete\", \"n\": 2}}", null), "a box without high");
            Check.Contains("high", e.Message, "the message names the missing key");
            Check.Throws<ArgumentOutOfRangeException>(() => EnvSpace.Discrete(0), "Discrete(0)");
            var driver = new EnvDriver("ws://127.0.0.1:1/env/0", Observation, EnvSpace.Discrete(2));
            Check.Throws<InvalidOperationException>(driver.Open, "a driver without agents");
        }

        // Lockstep against the Hub of test_env.py, which steps until it closes with 1000. Once
        // warm, the allocated bytes of this thread are measured over the remaining steps.
        [Case(Isolated = true)]
        public static void DriverStepsWithoutAllocating()
        {
            var agents = new CountingAgent[4];
            using (var driver = new EnvDriver(Server.Env("WSB_ENV_URL"), Observation, EnvSpace.Discrete(3), null, "counting"))
            {
                for (int i = 0; i < agents.Length; i++) driver.Register(agents[i] = new CountingAgent(50 + i));
                const int Warm = 200;
                int served = 0;
                long before = 0;
                while (driver.Update())
                {
                    if (++served == Warm) before = GC.GetAllocatedBytesForCurrentThread();
                }
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Check.True(driver.Finished, "the trainer finished: " + driver.Result + " " + driver.Error);
                int measured = served - Warm;
                Console.WriteLine("served " + served + " requests; allocated " + allocated + " bytes over the last " + measured +
                                  " (" + (double)allocated / measured + " per step of " + agents.Length + " agents)");
                Check.True(measured >= 2000, "measured " + measured + " steps");
                Check.True(allocated < 4096, allocated + " bytes allocated over " + measured + " steps (bound 4096)");
                long sum = 0;
                foreach (var a in agents) sum += a.ActionSum;
                Console.WriteLine("action sum " + sum);
            }
        }

        // Same-step autoreset of a dict observation, with engine settings, against test_env.py's
        // RemoteVectorEnv(autoreset_mode=SAME_STEP): it checks every row and the final
        // observations; here the engine settings are printed when they come, and once warm the
        // allocated bytes of this thread are measured over the remaining steps (partial resets
        // included).
        [Case(Isolated = true)]
        public static void DriverResetsInTheSameStepWithADictObservationAndSettings()
        {
            var agents = new SensorAgent[3];
            using (var driver = new EnvDriver(Server.Env("WSB_ENV_URL"), SensorSpace, EnvSpace.Discrete(3), null, "sensors"))
            {
                driver.PartialReset = true;
                driver.SettingsReceived += settings => Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                    "settings {0} {1} {2} {3}", settings.TimeScale, settings.TargetFrameRate, settings.QualityLevel, settings.Raw("camera")));
                for (int i = 0; i < agents.Length; i++) driver.Register(agents[i] = new SensorAgent());
                const int Warm = 100;
                int served = 0;
                long before = 0;
                while (driver.Update())
                {
                    if (++served == Warm) before = GC.GetAllocatedBytesForCurrentThread();
                }
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Check.True(driver.Finished, "the trainer finished: " + driver.Result + " " + driver.Error);
                Check.True(driver.Settings != null && driver.Settings.QualityLevel == 2, "the driver keeps the latest settings");
                int measured = served - Warm, episodes = 0;
                foreach (var a in agents) episodes += a.CompletedEpisodes;
                Console.WriteLine("served " + served + " requests, " + episodes + " episodes; allocated " + allocated + " bytes over the last " + measured);
                Check.True(measured >= 1000, "measured " + measured + " steps");
                Check.True(allocated < 4096, allocated + " bytes allocated over " + measured + " steps (bound 4096)");
            }
        }

        // Per-frame polling with the answer after the engine's simulation (SubmitNextFrame): a
        // frame never waits. test_env.py resets, then waits for the line "idle 50" (fifty frames
        // ran while the trainer sent nothing), then steps.
        [Case(Isolated = true)]
        public static void PerFramePollingNeverBlocks()
        {
            var agent = new CountingAgent(1000000);
            using (var driver = new EnvDriver(Server.Env("WSB_ENV_URL"), Observation, EnvSpace.Discrete(3), null, "per-frame"))
            {
                driver.Register(agent);
                driver.Lockstep = false;
                driver.SubmitNextFrame = true;
                int served = 0, idle = 0;
                bool told = false;
                while (!driver.Finished && driver.Result == WsResult.Ok)
                {
                    if (driver.Update()) served++;
                    else if (served > 0 && ++idle == 50 && !told)
                    {
                        Console.WriteLine("idle 50");
                        told = true;
                    }
                    Thread.Sleep(1); // the rest of the frame
                }
                Check.True(driver.Finished, "the trainer finished: " + driver.Result + " " + driver.Error);
                Console.WriteLine("served " + served + " decisions " + agent.Decisions + " action sum " + agent.ActionSum);
            }
        }
    }
}
