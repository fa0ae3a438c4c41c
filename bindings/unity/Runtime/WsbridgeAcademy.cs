// The academy component (Unity only): owns the scene's one env connection (an EnvDriver over
// WsEnv) and steps every WsbridgeAgent registered with it from FixedUpdate, as ML-Agents'
// Academy does. Lockstep blocks FixedUpdate until the trainer asks (headless training at full
// speed); PerFrame polls and never blocks a frame. The agents' actions are applied in one
// FixedUpdate, the physics step simulates them, and their observations are collected at the
// start of the next FixedUpdate (EnvDriver.SubmitNextFrame). Compiled only by Unity
// (UNITY_5_3_OR_NEWER); docs/train-unity.md's example runs it under Mono with a stand-in engine.
//
// A player build launched by a trainer script can take its slot from the command line:
// -wsbridge-url ws://host:port, -wsbridge-slot N, -wsbridge-token T override the inspector. A
// build launched anywhere can find a free slot through a lobby instead (docs/env.md, Lobby):
// -wsbridge-lobby wss://edge/lobby [-wsbridge-env-name NAME], or the inspector's Lobby Url.

#if UNITY_5_3_OR_NEWER
using System;
using System.Collections.Generic;
using UnityEngine;

namespace Wsbridge
{
    [AddComponentMenu("wsbridge/Wsbridge Academy")]
    [DefaultExecutionOrder(-1000)]
    public sealed class WsbridgeAcademy : MonoBehaviour
    {
        public enum DriveMode
        {
            /// <summary>FixedUpdate waits for the trainer's request: the fastest training loop.</summary>
            Lockstep,
            /// <summary>FixedUpdate takes a request if one came and never blocks (a game that keeps rendering).</summary>
            PerFrame,
        }

        [Header("Trainer")]
        [Tooltip("The trainer's hub, ws://host:port (or wss://). -wsbridge-url on the command line overrides it.")]
        [SerializeField] private string hubUrl = "ws://127.0.0.1:8001";
        [Tooltip("This game's slot: it connects to <hub>/env/<slot>. -wsbridge-slot overrides it.")]
        [SerializeField] private int slot = 0;
        [Tooltip("A lobby's URL (ws://host:port/lobby or wss://): when set, the lobby assigns a free slot and Hub Url " +
                 "and Slot are unused. -wsbridge-lobby overrides it.")]
        [SerializeField] private string lobbyUrl = "";
        [Tooltip("With a lobby: a slot of a hub serving this env name (empty: any hub). -wsbridge-env-name overrides it.")]
        [SerializeField] private string envName = "";
        [Tooltip("The hub's token, if it has one (sent as Authorization: Bearer; to the lobby too). -wsbridge-token overrides it.")]
        [SerializeField] private string token = "";
        [Tooltip("Lockstep blocks FixedUpdate until the trainer asks; PerFrame never blocks a frame.")]
        [SerializeField] private DriveMode mode = DriveMode.Lockstep;
        [Tooltip("A name for the trainer's logs.")]
        [SerializeField] private string gameName = "";

        [Header("Spaces (or set ObservationSpace/ActionSpace from code in Awake)")]
        [Tooltip("Floats each agent adds in CollectObservations.")]
        [SerializeField] private int observationSize = 4;
        [Tooltip("Continuous actions (a float32 box in [-1, 1]); 0 for discrete actions.")]
        [SerializeField] private int continuousActions = 0;
        [Tooltip("Discrete actions: the choices of each branch (one branch: Discrete(n); several: MultiDiscrete).")]
        [SerializeField] private int[] discreteBranches = { 2 };

        [Header("Decisions")]
        [Tooltip("FixedUpdates per decision, as ML-Agents' DecisionRequester.DecisionPeriod.")]
        [SerializeField] private int decisionPeriod = 1;
        [Tooltip("Between decisions, act again with the last action (else OnActionReceived is not called).")]
        [SerializeField] private bool takeActionsBetweenDecisions = true;
        [Tooltip("Give up reconnecting after this many seconds without a connection (-1: never).")]
        [SerializeField] private float reconnectGiveUpSeconds = 30;
        [Tooltip("Agents reset one by one, so the trainer may use same-step autoreset (an ended episode's next one starts in the same answer).")]
        [SerializeField] private bool partialReset = true;

        [Header("Engine settings")]
        [Tooltip("Apply the trainer's engine settings (set_engine_settings): time_scale to Time.timeScale, target_frame_rate to Application.targetFrameRate, quality_level to QualitySettings.")]
        [SerializeField] private bool applyEngineSettings = true;

        private readonly List<EnvAgent> pending = new List<EnvAgent>();
        private EnvDriver driver;
        private bool reported;

        /// <summary>The academy of the scene (the last one enabled).</summary>
        public static WsbridgeAcademy Instance { get; private set; }

        /// <summary>Overrides the inspector's observation space (any EnvSpace); set before the first FixedUpdate.</summary>
        public EnvSpace ObservationSpace { get; set; }

        /// <summary>Overrides the inspector's action space; set before the first FixedUpdate.</summary>
        public EnvSpace ActionSpace { get; set; }

        /// <summary>The driver once the env opened (its Result and Error say how it ended).</summary>
        public EnvDriver Driver { get { return driver; } }

        /// <summary>The trainer's engine settings, raised from FixedUpdate when they come (after
        /// they were applied, with applyEngineSettings): read the game's own keys here (Raw).</summary>
        public event Action<EngineSettings> EngineSettingsReceived;

        /// <summary>The slot URL this academy connects to, or the lobby's (see Lobby).</summary>
        public string Url
        {
            get
            {
                if (Lobby) return Argument("-wsbridge-lobby") ?? lobbyUrl;
                string hub = Argument("-wsbridge-url") ?? hubUrl;
                return hub.TrimEnd('/') + "/env/" + (Argument("-wsbridge-slot") ?? slot.ToString());
            }
        }

        /// <summary>Whether a lobby assigns the slot (Url is then the lobby's; the driver's
        /// Env.SlotUrl names the slot once connected).</summary>
        public bool Lobby
        {
            get { return !string.IsNullOrEmpty(Argument("-wsbridge-lobby") ?? lobbyUrl); }
        }

        public DriveMode Mode
        {
            get { return mode; }
            set { mode = value; if (driver != null) driver.Lockstep = value == DriveMode.Lockstep; }
        }

        private void Awake()
        {
            Instance = this;
        }

        /// <summary>Adds an agent (WsbridgeAgent does it in its Start). Agents must register
        /// before the first FixedUpdate: the hello declares how many there are.</summary>
        public void Register(EnvAgent agent)
        {
            if (driver != null)
            {
                Debug.LogError("wsbridge: an agent registered after the env opened with " + driver.Agents.Count +
                               " agents; enable every agent before the first FixedUpdate", this);
                return;
            }
            if (!pending.Contains(agent)) pending.Add(agent);
        }

        private void FixedUpdate()
        {
            if (driver == null && !Open()) return;
            driver.Update();
            if (!driver.Running && !reported)
            {
                reported = true;
                if (driver.Finished) Debug.Log("wsbridge: " + Url + ": training finished (" + driver.Error + ")", this);
                else Debug.LogError("wsbridge: " + Url + ": " + driver.Error, this);
            }
        }

        private bool Open()
        {
            if (pending.Count == 0) return false; // no agent yet
            EnvSpace obs = ObservationSpace ?? EnvSpace.Box(double.NegativeInfinity, double.PositiveInfinity, new[] { observationSize });
            EnvSpace act = ActionSpace ?? (continuousActions > 0
                ? EnvSpace.Box(-1, 1, new[] { continuousActions })
                : discreteBranches.Length == 1 ? EnvSpace.Discrete(discreteBranches[0]) : EnvSpace.MultiDiscrete(Array.ConvertAll(discreteBranches, b => (long)b)));
            string t = Argument("-wsbridge-token") ?? token;
            var options = new EnvOptions
            {
                Token = string.IsNullOrEmpty(t) ? null : t,
                DecisionPeriod = decisionPeriod,
                RepeatActions = takeActionsBetweenDecisions,
                ReconnectGiveUpMs = reconnectGiveUpSeconds < 0 ? -1 : (int)(reconnectGiveUpSeconds * 1000),
            };
            if (Lobby)
            {
                options.Lobby = true;
                options.EnvName = Argument("-wsbridge-env-name") ?? envName;
            }
            driver = new EnvDriver(Url, obs, act, options, string.IsNullOrEmpty(gameName) ? null : gameName);
            driver.Lockstep = mode == DriveMode.Lockstep;
            driver.SubmitNextFrame = true; // physics runs after FixedUpdate: observe in the next one
            driver.PartialReset = partialReset;
            driver.ConnectionEvent += ev => Debug.Log("wsbridge: " + Url + ": " + ev.Kind + " (connection " + ev.Connection + ")" +
                (Lobby && driver.Env != null ? ", slot " + driver.Env.SlotUrl : ""), this);
            driver.SettingsReceived += OnEngineSettings;
            foreach (EnvAgent agent in pending) driver.Register(agent);
            try
            {
                driver.Open();
                return true;
            }
            catch (WsException e)
            {
                Debug.LogError("wsbridge: " + Url + ": " + e.Message, this); // a bad URL, spec or option; WebGL
                driver = null;
                enabled = false;
                return false;
            }
        }

        // As ML-Agents' EngineConfigurationChannel: the keys the trainer package defines.
        private void OnEngineSettings(EngineSettings settings)
        {
            if (applyEngineSettings)
            {
                if (settings.TimeScale.HasValue) Time.timeScale = (float)settings.TimeScale.Value;
                if (settings.TargetFrameRate.HasValue) Application.targetFrameRate = settings.TargetFrameRate.Value;
                if (settings.QualityLevel.HasValue) QualitySettings.SetQualityLevel(settings.QualityLevel.Value, true);
            }
            if (EngineSettingsReceived != null) EngineSettingsReceived(settings);
        }

        private void OnDestroy()
        {
            if (driver != null) driver.Dispose();
            if (Instance == this) Instance = null;
        }

        // "-name value" from the player's command line, or null.
        private static string Argument(string name)
        {
            string[] args = Environment.GetCommandLineArgs();
            for (int i = 0; i + 1 < args.Length; i++)
                if (args[i] == name) return args[i + 1];
            return null;
        }
    }
}
#endif
