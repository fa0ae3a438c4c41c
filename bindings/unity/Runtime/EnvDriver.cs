// The academy: owns one WsEnv (one connection, one trainer slot) and steps every registered
// EnvAgent together, as ML-Agents' Academy steps the agents of a scene. Plain C#; the Unity
// component WsbridgeAcademy calls Update from FixedUpdate.
//
// One call of Update is one frame of the game loop:
// 1. with SubmitNextFrame (an engine that simulates after the scripts, as Unity's physics runs
//    after FixedUpdate), the previous frame's answer goes first: CollectObservations of every
//    agent, the rewards and episode ends set meanwhile, Submit;
// 2. the next event: Lockstep waits for the trainer's request (wsb_env_next with -1); per-frame
//    polling takes it if it is there and otherwise returns at once (0), so a frame never blocks;
// 3. a request runs the hooks: OnEpisodeBegin for the agents the trainer resets, OnActionReceived
//    for the others (on a decision; again between decisions with RepeatActions);
// 4. without SubmitNextFrame (a game that simulates inside OnActionReceived, like the C#
//    cartpole) the answer goes at once.
// With PartialReset (same-step autoreset, if the trainer uses it) the answer that ends episodes
// is followed at once, in the same Update, by a Reset of only those agents: OnEpisodeBegin and
// CollectObservations of each, the others untouched, and one answer to the trainer with both.
// Engine settings (SettingsReceived) and connection events (Connected, Reconnected,
// Disconnected) are reported and waited through;
// the end (Finished, or a refusal, a protocol violation, giving up) stops the driver: Running
// turns false, Result and Error say why. Nothing is thrown for a network event; once running,
// Update allocates nothing.

using System;
using System.Collections.Generic;

namespace Wsbridge
{
    public sealed class EnvDriver : IDisposable
    {
        private readonly string url;
        private readonly EnvSpace observationSpace, actionSpace;
        private readonly EnvOptions options;
        private readonly string name;
        private readonly List<EnvAgent> agents = new List<EnvAgent>();
        private WsEnv env;
        private byte[] observations, actions;
        private ObservationWriter writer;
        private ActionBuffers[] buffers;
        private bool[] resetNow;
        private bool answerPending;
        // The event the pending answer is for; whether the last answer (of a step) ended an episode.
        private EnvEventKind answering;
        private bool endedInAnswer;
        private WsResult result = WsResult.Ok;
        private string error;

        /// <param name="url">The slot's URL, e.g. ws://127.0.0.1:8001/env/0.</param>
        /// <param name="observationSpace">One agent's observation space (every agent has the same).</param>
        /// <param name="actionSpace">One agent's action space.</param>
        /// <param name="options">Token, decision period, reconnect timing ...; null for the defaults.</param>
        /// <param name="name">A name for the trainer's logs.</param>
        public EnvDriver(string url, EnvSpace observationSpace, EnvSpace actionSpace, EnvOptions options = null, string name = null)
        {
            if (url == null) throw new ArgumentNullException("url");
            if (observationSpace == null) throw new ArgumentNullException("observationSpace");
            if (actionSpace == null) throw new ArgumentNullException("actionSpace");
            this.url = url;
            this.observationSpace = observationSpace;
            this.actionSpace = actionSpace;
            this.options = options;
            this.name = name;
            Lockstep = true;
        }

        /// <summary>true: Update blocks until the trainer's next request (the fastest training
        /// loop); false: Update polls once and never blocks a frame.</summary>
        public bool Lockstep { get; set; }

        /// <summary>true: observations are collected and sent at the start of the next Update,
        /// after the engine simulated the actions (Unity physics); false: at once, after the hooks.</summary>
        public bool SubmitNextFrame { get; set; }

        /// <summary>Connected, Reconnected, Disconnected and Finished, raised inside Update.</summary>
        public event Action<EnvEvent> ConnectionEvent;

        /// <summary>The trainer's engine settings (RemoteVectorEnv.set_engine_settings: time scale,
        /// target frame rate, quality level, the game's own keys), raised inside Update when they
        /// come (again after a reconnection). WsbridgeAcademy applies them to Unity.</summary>
        public event Action<EngineSettings> SettingsReceived;

        /// <summary>The latest engine settings (null before any).</summary>
        public EngineSettings Settings { get; private set; }

        /// <summary>Before Open: declare that this game resets agents one by one, so the trainer may
        /// use same-step autoreset (EnvSpec.PartialReset): an agent whose episode ended starts the
        /// next one in the same answer, without the junk step of next-step autoreset.</summary>
        public bool PartialReset { get; set; }

        public string Url { get { return url; } }

        /// <summary>The registered agents, in row order.</summary>
        public IList<EnvAgent> Agents { get { return agents.AsReadOnly(); } }

        /// <summary>The env once opened (null before the first Update or Open).</summary>
        public WsEnv Env { get { return env; } }

        /// <summary>Opened, and neither finished nor ended by an error.</summary>
        public bool Running { get { return env != null && result == WsResult.Ok && !Finished; } }

        /// <summary>Ok while running or after the trainer finished training; else why the env ended
        /// (EnvRefused, EnvProtocolError, EnvVersionMismatch, ConnectFailed ...).</summary>
        public WsResult Result { get { return result; } }

        /// <summary>The message of the end (the trainer's close reason, or the library's error).</summary>
        public string Error { get { return error; } }

        /// <summary>True once the trainer closed with 1000 (training finished).</summary>
        public bool Finished { get; private set; }

        /// <summary>Adds an agent (its row is its order). Before Open only: the hello declares the count.</summary>
        public void Register(EnvAgent agent)
        {
            if (agent == null) throw new ArgumentNullException("agent");
            if (env != null) throw new InvalidOperationException("register every agent before the env opens: the hello declared " + agents.Count + " agents");
            if (agents.Contains(agent)) return;
            agent.AgentIndex = agents.Count;
            agents.Add(agent);
        }

        /// <summary>Opens the env for the registered agents (the first Update does it too). Throws
        /// WsException for a malformed URL, spec or option, or a missing native library.</summary>
        public void Open()
        {
            if (env != null) return;
            if (agents.Count == 0) throw new InvalidOperationException("no agent registered with the EnvDriver for " + url);
            env = WsEnv.Open(url, new EnvSpec(observationSpace, actionSpace, agents.Count, name) { PartialReset = PartialReset }, options);
            observations = new byte[env.ObservationBytes * agents.Count];
            actions = new byte[Math.Max(1, env.ActionBytes * agents.Count)];
            writer = new ObservationWriter(observationSpace);
            buffers = new ActionBuffers[agents.Count];
            resetNow = new bool[agents.Count];
            for (int i = 0; i < agents.Count; i++)
            {
                buffers[i] = new ActionBuffers(actionSpace, actions, i * env.ActionBytes);
                agents[i].Initialize();
            }
        }

        /// <summary>One frame (see the top of EnvDriver.cs). Returns true when the trainer's
        /// request was served in this frame (the agents acted or were reset).</summary>
        public bool Update()
        {
            if (env == null) Open();
            if (result != WsResult.Ok || Finished) return false;
            if (answerPending)
            {
                answerPending = false;
                Answer();
            }
            bool served = false;
            while (true)
            {
                EnvEvent ev;
                WsResult r = env.Next(Lockstep ? -1 : 0, out ev);
                if (r == WsResult.Timeout) return served;
                if (r != WsResult.Ok)
                {
                    result = r;
                    error = env.LastError;
                    return served;
                }
                switch (ev.Kind)
                {
                    case EnvEventKind.Connected:
                    case EnvEventKind.Reconnected:
                    case EnvEventKind.Disconnected:
                        endedInAnswer = false; // a new connection starts with the trainer's reset
                        if (ConnectionEvent != null) ConnectionEvent(ev);
                        continue;
                    case EnvEventKind.Finished:
                        Finished = true;
                        WsCloseStatus? status = env.CloseStatus;
                        error = status.HasValue ? status.Value.ToString() : "training finished";
                        if (ConnectionEvent != null) ConnectionEvent(ev);
                        return served;
                    case EnvEventKind.Settings:
                        Settings = env.Settings();
                        if (SettingsReceived != null) SettingsReceived(Settings);
                        continue;
                    case EnvEventKind.Reset:
                    case EnvEventKind.Step:
                    case EnvEventKind.Repeat:
                    case EnvEventKind.NoDecision:
                        break;
                    default:
                        continue; // an event of a newer library: nothing to answer
                }
                // Same-step autoreset: a Reset right after an answer that ended episodes (the trainer
                // waits for that answer, so it cannot be a reset() of its own), of those agents.
                bool sameStep = ev.Kind == EnvEventKind.Reset && PartialReset && (endedInAnswer || ev.Resets < agents.Count);
                answering = ev.Kind;
                Act(ev.Kind);
                if (sameStep)
                {
                    // Same-step autoreset: the step's answer goes now, with the new episodes.
                    Answer();
                    served = true;
                    continue;
                }
                if (SubmitNextFrame) answerPending = true;
                else Answer();
                return true;
            }
        }

        private void Act(EnvEventKind kind)
        {
            if (kind == EnvEventKind.Step) env.Action(WsEnv.AllAgents, actions);
            for (int i = 0; i < agents.Count; i++)
            {
                EnvAgent agent = agents[i];
                long seed = -1;
                resetNow[i] = kind != EnvEventKind.Repeat && kind != EnvEventKind.NoDecision && env.AgentReset(i, out seed);
                if (resetNow[i])
                {
                    agent.BeginEpisode(seed);
                    continue;
                }
                if (kind == EnvEventKind.Reset) continue; // a partial Reset leaves this agent alone
                agent.StepCount++;
                if (kind == EnvEventKind.NoDecision) continue;
                if (kind == EnvEventKind.Step) buffers[i].Decode();
                agent.OnActionReceived(buffers[i]);
            }
        }

        // Observations, rewards, episode ends and infos of every agent, then the submit. A Reset
        // is answered agent by agent, for the agents it resets only: with same-step autoreset
        // the library refuses the others' rows (and every row at once), whether it resets some
        // agents or all of them.
        private void Answer()
        {
            bool reset = answering == EnvEventKind.Reset;
            bool ended = false;
            int rowBytes = env.ObservationBytes;
            for (int i = 0; i < agents.Count; i++)
            {
                if (reset && !resetNow[i]) continue;
                writer.Begin(observations, i * rowBytes);
                agents[i].CollectObservations(writer);
                if (writer.Count != writer.Capacity)
                    throw new InvalidOperationException("agent " + i + " (" + agents[i].GetType().Name + ") wrote " + writer.Count +
                                                        " observation items; its observation space has " + writer.Capacity);
                bool wasEnded = agents[i].EpisodeEnded;
                agents[i].Flush(env);
                ended |= !wasEnded && agents[i].EpisodeEnded;
                if (reset) env.SetObservation(i, observations, i * rowBytes, rowBytes);
            }
            if (!reset) env.SetObservation(WsEnv.AllAgents, observations, 0, observations.Length);
            endedInAnswer = ended && !reset;
            env.Submit();
        }

        /// <summary>Closes the env (1000 to the trainer); harmless twice.</summary>
        public void Dispose()
        {
            if (env != null) env.Dispose();
            if (result == WsResult.Ok && !Finished) result = WsResult.Closed;
        }
    }
}
