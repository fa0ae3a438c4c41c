// The game side of the env protocol (docs/env.md), a thin C# face on the native env (wsb_env_*):
// the library says hello, checks the trainer's requests, copies actions and observations, applies
// the autoreset rule and reconnects to the same slot; this class only passes arrays and results.
// Plain C# (no Unity types): the Mono tests, the conformance game and the C# cartpole run it, and
// EnvDriver (the academy) and the Unity components sit on top of it.
//
// Rules of the game loop (issue 15): Next never throws for a network event (it returns Timeout,
// or the end of the env as a WsResult with LastError saying why); exceptions are for programmer
// errors (a row of the wrong size, a submit without an observation, use after Dispose). Once
// running, nothing here allocates per step (Settings, ResetOptions and CloseStatus do, when the
// trainer sent something new). One thread, the game loop. Same-step autoreset (EnvSpec.
// PartialReset), Dict and Tuple observations (ObservationPart, SetObservationPart) and engine
// settings (the Settings event) are the native layer's: docs/env.md.

using System;
using System.Runtime.ConstrainedExecution;
using System.Threading;

namespace Wsbridge
{
    /// <summary>What WsEnv.Next reports (the WSB_EVENT_* constants of wsbridge.h).</summary>
    public enum EnvEventKind : uint
    {
        None = 0,
        /// <summary>The first connection opened and the hello went out. Nothing to submit.</summary>
        Connected = NativeMethods.WSB_EVENT_CONNECTED,
        /// <summary>A new connection after a drop: every episode restarts (the trainer resets the agents first).</summary>
        Reconnected = NativeMethods.WSB_EVENT_RECONNECTED,
        /// <summary>Reset every agent (reseed those AgentReset gives a seed), set every observation, Submit.</summary>
        Reset = NativeMethods.WSB_EVENT_RESET,
        /// <summary>A decision: reset the flagged agents, apply the others' actions, simulate, set what changed, Submit.</summary>
        Step = NativeMethods.WSB_EVENT_STEP,
        /// <summary>A frame between decisions: apply the last actions again, simulate, Submit.</summary>
        Repeat = NativeMethods.WSB_EVENT_REPEAT,
        /// <summary>A frame between decisions without an action (RepeatActions false): simulate, Submit.</summary>
        NoDecision = NativeMethods.WSB_EVENT_NO_DECISION,
        /// <summary>The link dropped (CloseCode, Cause); the env reconnects during the next calls.</summary>
        Disconnected = NativeMethods.WSB_EVENT_DISCONNECTED,
        /// <summary>The trainer closed with 1000: training finished; no reconnect.</summary>
        Finished = NativeMethods.WSB_EVENT_FINISHED,
        /// <summary>The trainer sent engine settings (WsEnv.Settings has them): apply what the game knows. Nothing to submit.</summary>
        Settings = NativeMethods.WSB_EVENT_SETTINGS,
    }

    /// <summary>One event of WsEnv.Next (wsb_env_event).</summary>
    public struct EnvEvent
    {
        public EnvEventKind Kind;
        /// <summary>The current connection's number (1 for the first); for Disconnected and Finished, the one that ended.</summary>
        public int Connection;
        /// <summary>Reset: how many agents reset (all of them, or with same-step autoreset the ones
        /// whose episode just ended); Step: how many agents are flagged to reset; else 0.</summary>
        public int Resets;
        /// <summary>Disconnected: what ended the link (Closed: the trainer closed with a code; ConnectionLost ...).</summary>
        public WsResult Cause;
        /// <summary>Disconnected and Finished: the trainer's close code (1006 when none).</summary>
        public ushort CloseCode;

        /// <summary>Reset, Step, Repeat and NoDecision must be answered with Submit.</summary>
        public bool NeedsAnswer
        {
            get { return Kind >= EnvEventKind.Reset && Kind <= EnvEventKind.NoDecision; }
        }
    }

    /// <summary>A part (leaf) of a Dict or Tuple observation space as the env numbers it
    /// (WsEnv.ObservationPart): look it up once, then set it every step with SetObservationPart.</summary>
    public struct EnvObservationPart
    {
        internal EnvObservationPart(uint index, int bytes)
        {
            Index = (int)index;
            Bytes = bytes;
        }

        /// <summary>The part's number: 0 for the first leaf in wire order.</summary>
        public int Index { get; private set; }

        /// <summary>Bytes of one agent's row of this part.</summary>
        public int Bytes { get; private set; }
    }

    public sealed unsafe class WsEnv : IDisposable
    {
        /// <summary>Pass as the agent to read or write every agent's rows at once.</summary>
        public const int AllAgents = -1;

        private readonly NativeEnv native;
        private readonly string url;
        private string lastError = "";

        private WsEnv(ulong handle, string url)
        {
            native = new NativeEnv(handle);
            this.url = url;
            uint agents;
            UIntPtr obs, act;
            Check(NativeMethods.wsb_env_layout(handle, &agents, &obs, &act));
            Agents = (int)agents;
            ObservationBytes = (int)(ulong)obs;
            ActionBytes = (int)(ulong)act;
        }

        /// <summary>
        /// Opens the env for the slot at `url` (e.g. ws://127.0.0.1:8001/env/3) and returns at
        /// once; the first Next reports Connected. Throws WsException (InvalidArgument, naming the
        /// key) for a malformed URL, spec or option, WsNativeLibraryException when the library is
        /// missing (or in a WebGL build, which has no native library).
        /// </summary>
        public static WsEnv Open(string url, EnvSpec spec, EnvOptions options = null)
        {
            if (spec == null) throw new ArgumentNullException("spec");
            return Open(url, spec.ToJson(), options == null ? null : options.ToJson());
        }

        /// <summary>Open with the spec and options as JSON (docs/env.md).</summary>
        public static WsEnv Open(string url, string specJson, string optionsJson)
        {
            if (url == null) throw new ArgumentNullException("url");
            if (specJson == null) throw new ArgumentNullException("specJson");
            WsRuntime.EnsureLoaded();
            byte[] u = Utf8.NullTerminated(url), s = Utf8.NullTerminated(specJson), o = Utf8.NullTerminated(optionsJson);
            ulong handle;
            uint result;
            fixed (byte* up = u)
            fixed (byte* sp = s)
            fixed (byte* op = o)
            {
                result = NativeMethods.wsb_env_open(up, sp, op, &handle);
            }
            if (result != NativeMethods.WSB_OK) throw WsException.FromNative(result);
            return new WsEnv(handle, url);
        }

        /// <summary>The URL given to Open (a slot's, or with EnvOptions.Lobby the lobby's).</summary>
        public string Url { get { return url; } }

        /// <summary>Agents this game declared.</summary>
        public int Agents { get; private set; }

        /// <summary>Bytes of one agent's observation row (wire dtype).</summary>
        public int ObservationBytes { get; private set; }

        /// <summary>Bytes of one agent's action row (wire dtype).</summary>
        public int ActionBytes { get; private set; }

        /// <summary>Why the last Next that returned neither Ok nor Timeout did so ("WSB_ENV_REFUSED: ...").</summary>
        public string LastError { get { return lastError; } }

        /// <summary>
        /// What to do now. timeoutMs: -1 blocks until the trainer's next request (lockstep); 0
        /// never blocks (once per frame). Returns Ok (ev written), Timeout (nothing yet: call
        /// again), or the end of the env, which never throws: EnvProtocolError, EnvVersionMismatch,
        /// EnvRefused, the last connect error when reconnecting gave up (ConnectFailed,
        /// HandshakeFailed, TlsFailed ...), MessageTooBig, Closed (after Finished, or Dispose);
        /// LastError has the message. Throws for a programmer error: the previous event was not
        /// submitted (InvalidOperationException), use after Dispose.
        /// </summary>
        public WsResult Next(int timeoutMs, out EnvEvent ev)
        {
            if (timeoutMs < -1) throw new ArgumentOutOfRangeException("timeoutMs", timeoutMs, "use -1 (block), 0 (poll) or a positive number of milliseconds");
            NativeMethods.wsb_env_event e;
            uint r = NativeMethods.wsb_env_next(Handle, timeoutMs, &e);
            GC.KeepAlive(native);
            ev = default(EnvEvent);
            if (r == NativeMethods.WSB_OK)
            {
                ev.Kind = (EnvEventKind)e.kind;
                ev.Connection = (int)e.connection;
                ev.Resets = (int)e.resets;
                ev.Cause = (WsResult)e.cause;
                ev.CloseCode = e.close_code;
                return WsResult.Ok;
            }
            if (r == NativeMethods.WSB_TIMEOUT) return WsResult.Timeout;
            string name = Utf8.FromNative(NativeMethods.wsb_result_name(r));
            string message = WsException.LastError();
            if (r == NativeMethods.WSB_INVALID_ARGUMENT) throw new InvalidOperationException(name + ": " + message);
            if (r == NativeMethods.WSB_INVALID_HANDLE) throw new ObjectDisposedException("WsEnv", name + ": " + message);
            lastError = name + ": " + message;
            return (WsResult)r;
        }

        /// <summary>Whether `agent` resets in the current event (every agent in Reset; the
        /// flagged ones in Step); seed: the seed to reseed with first, or -1 to continue its stream.</summary>
        public bool AgentReset(int agent, out long seed)
        {
            byte reset;
            long s;
            Check(NativeMethods.wsb_env_agent_reset(Handle, Agent(agent), &reset, &s));
            seed = s;
            return reset != 0;
        }

        /// <summary>The options the trainer passed to reset(options=...), as JSON ("{}" when none). Allocates.</summary>
        public string ResetOptions()
        {
            UIntPtr length;
            Check(NativeMethods.wsb_env_reset_options(Handle, null, UIntPtr.Zero, &length));
            var buffer = new byte[(int)(ulong)length + 1];
            fixed (byte* p = buffer) Check(NativeMethods.wsb_env_reset_options(Handle, p, (UIntPtr)(ulong)buffer.Length, &length));
            return Utf8.Decode(buffer, 0, buffer.Length - 1);
        }

        /// <summary>The slot's URL (wsb_env_url): the one given to Open, or with EnvOptions.Lobby the
        /// one the lobby assigned last ("" before the first assignment); credentials redacted.
        /// Allocates.</summary>
        public string SlotUrl
        {
            get
            {
                UIntPtr length;
                Check(NativeMethods.wsb_env_url(Handle, null, UIntPtr.Zero, &length));
                var buffer = new byte[(int)(ulong)length + 1];
                fixed (byte* p = buffer) Check(NativeMethods.wsb_env_url(Handle, p, (UIntPtr)(ulong)buffer.Length, &length));
                return Utf8.Decode(buffer, 0, buffer.Length - 1);
            }
        }

        /// <summary>The engine settings the trainer sent last (after a Settings event; "{}" before
        /// any): time scale, target frame rate, quality level, and the game's own keys. They stay
        /// until the next Settings event replaces them all. Allocates.</summary>
        public EngineSettings Settings()
        {
            UIntPtr length;
            Check(NativeMethods.wsb_env_settings(Handle, null, UIntPtr.Zero, &length));
            var buffer = new byte[(int)(ulong)length + 1];
            fixed (byte* p = buffer) Check(NativeMethods.wsb_env_settings(Handle, p, (UIntPtr)(ulong)buffer.Length, &length));
            return EngineSettings.FromJson(Utf8.Decode(buffer, 0, buffer.Length - 1));
        }

        /// <summary>
        /// Finds a part of a Dict or Tuple observation space by its path (dict keys and tuple
        /// indices joined by ".": "camera", "1.bits"; EnvSpace.Parts lists them). Look parts up
        /// once, after Open. Throws WsException InvalidArgument for a path the space does not
        /// have (the message lists the parts).
        /// </summary>
        public EnvObservationPart ObservationPart(string path)
        {
            if (path == null) throw new ArgumentNullException("path");
            byte[] name = Utf8.NullTerminated(path);
            uint index;
            UIntPtr bytes;
            fixed (byte* p = name) Check(NativeMethods.wsb_env_observation_part(Handle, p, &index, &bytes));
            return new EnvObservationPart(index, (int)(ulong)bytes);
        }

        /// <summary>Sets one part of `agent`'s observation (or every agent's rows of that part with
        /// AllAgents): raw items of the part's wire dtype, exactly part.Bytes per agent. Copied. An
        /// observation is complete when each of its parts was set (here or by SetObservation).</summary>
        public void SetObservationPart(int agent, EnvObservationPart part, byte[] data, int offset, int count)
        {
            if (data == null) throw new ArgumentNullException("data");
            if (offset < 0 || count < 0 || data.Length - offset < count) throw new ArgumentOutOfRangeException("count");
            fixed (byte* p = data) ObservePart(agent, part, p + offset, count);
        }

        /// <summary>A part of raw bytes (e.g. a UInt8 camera image), the whole array.</summary>
        public void SetObservationPart(int agent, EnvObservationPart part, byte[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            SetObservationPart(agent, part, data, 0, data.Length);
        }

        /// <summary>A Float32 box part.</summary>
        public void SetObservationPart(int agent, EnvObservationPart part, float[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            fixed (float* p = data) ObservePart(agent, part, (byte*)p, data.Length * 4);
        }

        /// <summary>A Float64 box part.</summary>
        public void SetObservationPart(int agent, EnvObservationPart part, double[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            fixed (double* p = data) ObservePart(agent, part, (byte*)p, data.Length * 8);
        }

        /// <summary>A Discrete or MultiDiscrete part (Int64 items).</summary>
        public void SetObservationPart(int agent, EnvObservationPart part, long[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            fixed (long* p = data) ObservePart(agent, part, (byte*)p, data.Length * 8);
        }

        private void ObservePart(int agent, EnvObservationPart part, byte* p, int count)
        {
            Check(NativeMethods.wsb_env_set_observation_part(Handle, Agent(agent), (uint)part.Index, p, (UIntPtr)(uint)count));
        }

        /// <summary>
        /// Copies `agent`'s action (or every agent's with AllAgents) of the current Step or Repeat
        /// into `into` at `offset`: raw little-endian items of the action space's wire dtype.
        /// Throws WsException InvalidArgument outside a Step or Repeat (e.g. NoDecision).
        /// </summary>
        public void Action(int agent, byte[] into, int offset = 0)
        {
            if (into == null) throw new ArgumentNullException("into");
            int need = agent == AllAgents ? ActionBytes * Agents : ActionBytes;
            if (offset < 0 || into.Length - offset < need) throw new ArgumentException("Action needs " + need + " bytes from offset " + offset + "; the array has " + into.Length, "into");
            fixed (byte* p = into) Check(NativeMethods.wsb_env_action(Handle, Agent(agent), p + offset, (UIntPtr)(uint)need, null));
        }

        /// <summary>Action for a Discrete or MultiDiscrete space (Int64 items).</summary>
        public void Action(int agent, long[] into)
        {
            if (into == null) throw new ArgumentNullException("into");
            fixed (long* p = into) ActionInto(agent, (byte*)p, into.Length * 8);
        }

        /// <summary>Action for a Float32 box.</summary>
        public void Action(int agent, float[] into)
        {
            if (into == null) throw new ArgumentNullException("into");
            fixed (float* p = into) ActionInto(agent, (byte*)p, into.Length * 4);
        }

        /// <summary>Action for a Float64 box.</summary>
        public void Action(int agent, double[] into)
        {
            if (into == null) throw new ArgumentNullException("into");
            fixed (double* p = into) ActionInto(agent, (byte*)p, into.Length * 8);
        }

        private void ActionInto(int agent, byte* p, int cap)
        {
            Check(NativeMethods.wsb_env_action(Handle, Agent(agent), p, (UIntPtr)(uint)cap, null));
        }

        /// <summary>Sets `agent`'s observation row (or every row with AllAgents): raw items of the
        /// observation space's wire dtype, exactly ObservationBytes per agent (a Dict or Tuple: its
        /// parts' rows one after the other, EnvSpacePart.Offset). Copied. In a Reset of same-step
        /// autoreset, only the agents it resets may be set (another: WsException InvalidArgument).</summary>
        public void SetObservation(int agent, byte[] data, int offset, int count)
        {
            if (data == null) throw new ArgumentNullException("data");
            if (offset < 0 || count < 0 || data.Length - offset < count) throw new ArgumentOutOfRangeException("count");
            fixed (byte* p = data) Observe(agent, p + offset, count);
        }

        public void SetObservation(int agent, byte[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            SetObservation(agent, data, 0, data.Length);
        }

        /// <summary>A Float32 box observation.</summary>
        public void SetObservation(int agent, float[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            fixed (float* p = data) Observe(agent, (byte*)p, data.Length * 4);
        }

        /// <summary>A Float64 box observation.</summary>
        public void SetObservation(int agent, double[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            fixed (double* p = data) Observe(agent, (byte*)p, data.Length * 8);
        }

        /// <summary>A Discrete or MultiDiscrete observation (Int64 items).</summary>
        public void SetObservation(int agent, long[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            fixed (long* p = data) Observe(agent, (byte*)p, data.Length * 8);
        }

        private void Observe(int agent, byte* p, int count)
        {
            Check(NativeMethods.wsb_env_set_observation(Handle, Agent(agent), p, (UIntPtr)(uint)count));
        }

        /// <summary>Replaces `agent`'s reward for the next answer (rewards start at 0 after each answer).</summary>
        public void SetReward(int agent, double reward)
        {
            Check(NativeMethods.wsb_env_set_reward(Handle, Agent(agent), reward));
        }

        /// <summary>Adds to `agent`'s reward for the next answer (they add up over a decision's frames).</summary>
        public void AddReward(int agent, double reward)
        {
            Check(NativeMethods.wsb_env_add_reward(Handle, Agent(agent), reward));
        }

        /// <summary>Ends `agent`'s episode in the next answer: terminated (a terminal state) and/or truncated (a time limit).</summary>
        public void SetDone(int agent, bool terminated, bool truncated)
        {
            Check(NativeMethods.wsb_env_set_done(Handle, Agent(agent), (byte)(terminated ? 1 : 0), (byte)(truncated ? 1 : 0)));
        }

        /// <summary>`agent`'s info for the next answer, a JSON object (null for none); cleared after each answer.
        /// Encoded without allocating for strings up to 64 KiB.</summary>
        public void SetInfo(int agent, string json)
        {
            if (json == null)
            {
                Check(NativeMethods.wsb_env_set_info(Handle, Agent(agent), null));
                return;
            }
            int length;
            byte[] bytes = Utf8.Encode(json, out length);
            if (length >= bytes.Length) bytes = Utf8.NullTerminated(json); // a long one: no room for the NUL
            else bytes[length] = 0;
            fixed (byte* p = bytes) Check(NativeMethods.wsb_env_set_info(Handle, Agent(agent), p));
        }

        /// <summary>
        /// Answers the current Reset, Step, Repeat or NoDecision (the answer goes to the trainer
        /// now, except between decisions). A lost link is not an error here: the next Next reports
        /// it. Throws WsException InvalidArgument when an agent has no observation (the message
        /// names it; nothing was sent) or there is no event to answer, MessageTooBig.
        /// </summary>
        public void Submit()
        {
            Check(NativeMethods.wsb_env_submit(Handle));
        }

        /// <summary>The trainer's close code and reason of the latest disconnection (after
        /// Disconnected, Finished, EnvRefused or EnvVersionMismatch); null if none since the
        /// current connection opened. Allocates.</summary>
        public WsCloseStatus? CloseStatus
        {
            get
            {
                ushort code;
                UIntPtr length;
                uint r = NativeMethods.wsb_env_close_status(Handle, &code, null, UIntPtr.Zero, &length);
                GC.KeepAlive(native);
                if (r != NativeMethods.WSB_OK) return null; // WSB_WOULD_BLOCK: no disconnection since the connection opened
                var buffer = new byte[(int)(ulong)length + 1];
                fixed (byte* p = buffer) Check(NativeMethods.wsb_env_close_status(Handle, &code, p, (UIntPtr)(uint)buffer.Length, &length));
                return new WsCloseStatus(code, Utf8.Decode(buffer, 0, buffer.Length - 1));
            }
        }

        /// <summary>True once Dispose has been called.</summary>
        public bool IsDisposed { get { return native.Handle == 0; } }

        /// <summary>Closes the env (1000 "the game closed" to the trainer) and releases it; twice is harmless.
        /// A Next blocking on another thread returns Closed.</summary>
        public void Dispose()
        {
            ulong h = native.Take();
            if (h != 0) NativeMethods.wsb_env_close(h);
        }

        private ulong Handle
        {
            get
            {
                ulong h = native.Handle;
                if (h == 0) throw new ObjectDisposedException("WsEnv", "the env for " + url + " was disposed");
                return h;
            }
        }

        private uint Agent(int agent)
        {
            if (agent == AllAgents) return NativeMethods.WSB_ALL_AGENTS;
            if (agent < 0 || agent >= Agents) throw new ArgumentOutOfRangeException("agent", agent, "this game declared " + Agents + " agents");
            return (uint)agent;
        }

        // A failure of a call that cannot fail for a network event: a programmer error.
        private void Check(uint result)
        {
            GC.KeepAlive(native);
            if (result == NativeMethods.WSB_OK) return;
            if (result == NativeMethods.WSB_INVALID_HANDLE && native.Handle == 0)
                throw new ObjectDisposedException("WsEnv", "the env for " + url + " was disposed");
            throw WsException.FromNative(result);
        }

        // The env handle, released exactly once: by Dispose or, if forgotten, by the finalizer.
        private sealed class NativeEnv : CriticalFinalizerObject
        {
            private long handle;

            internal NativeEnv(ulong handle)
            {
                this.handle = (long)handle;
            }

            internal ulong Handle { get { return (ulong)Interlocked.Read(ref handle); } }

            internal ulong Take()
            {
                ulong taken = (ulong)Interlocked.Exchange(ref handle, 0);
                if (taken != 0) GC.SuppressFinalize(this);
                return taken;
            }

            ~NativeEnv()
            {
                ulong h = (ulong)Interlocked.Exchange(ref handle, 0);
                if (h != 0) NativeMethods.wsb_env_close(h);
            }
        }
    }
}
