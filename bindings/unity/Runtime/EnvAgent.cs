// Agents in the manner of Unity ML-Agents, in plain C# (no Unity types): an EnvAgent subclass
// fills CollectObservations, acts in OnActionReceived, restarts in OnEpisodeBegin, and calls
// AddReward/SetReward/EndEpisode; an EnvDriver (EnvDriver.cs, the Academy) steps every registered
// agent over one WsEnv. The Unity components (WsbridgeAgent, WsbridgeAcademy) forward to these
// classes, so the Mono tests and the C# cartpole run the code path a Unity game runs.

using System;

namespace Wsbridge
{
    /// <summary>Where CollectObservations writes one agent's observation (ML-Agents' VectorSensor):
    /// values are converted to the observation space's wire dtype, in C order. For a Dict or Tuple
    /// space the items fill its parts one after the other in wire order (EnvSpace.Parts: dict
    /// keys sorted), each converted to its part's dtype. Allocates nothing.</summary>
    public sealed unsafe class ObservationWriter
    {
        // Per part, in wire order: its dtype, item size, first item and first byte in the row.
        private readonly EnvDType[] dtypes;
        private readonly int[] sizes, firstItem, firstByte;
        private byte[] buffer;
        private int start, count, part;

        internal ObservationWriter(EnvSpace space)
        {
            int n = space.Parts.Count;
            dtypes = new EnvDType[n];
            sizes = new int[n];
            firstItem = new int[n + 1];
            firstByte = new int[n];
            for (int i = 0; i < n; i++)
            {
                EnvSpacePart p = space.Parts[i];
                dtypes[i] = p.Space.WireDType;
                sizes[i] = EnvSpace.SizeOf(dtypes[i]);
                firstByte[i] = p.Offset;
                firstItem[i + 1] = firstItem[i] + p.Space.Items;
            }
            Capacity = firstItem[n];
        }

        /// <summary>Items one observation has (the space's elements; every part's for a Dict or Tuple).</summary>
        public int Capacity { get; private set; }

        /// <summary>Items written so far.</summary>
        public int Count { get { return count; } }

        internal void Begin(byte[] rows, int offset)
        {
            buffer = rows;
            start = offset;
            count = 0;
            part = 0;
        }

        public void AddObservation(float value)
        {
            Add(value);
        }

        public void AddObservation(double value)
        {
            Add(value);
        }

        public void AddObservation(int value)
        {
            Add(value);
        }

        public void AddObservation(long value)
        {
            Add(value);
        }

        public void AddObservation(bool value)
        {
            Add(value ? 1 : 0);
        }

        /// <summary>Every item of `values` (e.g. a float[] of positions).</summary>
        public void AddObservation(float[] values)
        {
            if (values == null) throw new ArgumentNullException("values");
            for (int i = 0; i < values.Length; i++) Add(values[i]);
        }

        /// <summary>Raw items of the wire dtype (an image's bytes for a UInt8 box), copied as they are;
        /// within one part of a Dict or Tuple.</summary>
        public void AddRaw(byte[] data, int offset, int length)
        {
            if (data == null) throw new ArgumentNullException("data");
            Room(1);
            int size = sizes[part];
            if (length % size != 0 || offset < 0 || length < 0 || data.Length - offset < length) throw new ArgumentOutOfRangeException("length");
            if (count + length / size > firstItem[part + 1])
                throw new InvalidOperationException("AddRaw: " + length / size + " items do not fit in the " + (firstItem[part + 1] - count) +
                                                    " items left of observation part " + part);
            Buffer.BlockCopy(data, offset, buffer, Position(), length);
            count += length / size;
        }

        // Room for one more item; moves to the next part when the current one is full.
        private void Room(int items)
        {
            if (count + items > Capacity)
                throw new InvalidOperationException("CollectObservations wrote more than the observation space's " + Capacity + " items");
            while (count >= firstItem[part + 1]) part++;
        }

        // The byte in the row where the next item goes.
        private int Position()
        {
            return start + firstByte[part] + (count - firstItem[part]) * sizes[part];
        }

        private void Add(double v)
        {
            Room(1);
            fixed (byte* row = buffer)
            {
                byte* p = row + Position();
                switch (dtypes[part])
                {
                    case EnvDType.Float32: *(float*)p = (float)v; break;
                    case EnvDType.Float64: *(double*)p = v; break;
                    case EnvDType.Int8: *(sbyte*)p = (sbyte)v; break;
                    case EnvDType.UInt8: *p = (byte)v; break;
                    case EnvDType.Int16: *(short*)p = (short)v; break;
                    case EnvDType.UInt16: *(ushort*)p = (ushort)v; break;
                    case EnvDType.Int32: *(int*)p = (int)v; break;
                    case EnvDType.UInt32: *(uint*)p = (uint)v; break;
                    case EnvDType.Int64: *(long*)p = (long)v; break;
                    default: *(ulong*)p = (ulong)v; break;
                }
            }
            count++;
        }
    }

    /// <summary>One agent's action (ML-Agents' ActionBuffers), reused every step: a Box's items
    /// as floats in ContinuousActions; a Discrete's value (start included), a MultiDiscrete's or
    /// a MultiBinary's items in DiscreteActions; Raw has the wire bytes (e.g. a Float64 box's).</summary>
    public sealed unsafe class ActionBuffers
    {
        private readonly EnvDType dtype;
        private readonly bool continuous;

        internal ActionBuffers(EnvSpace space, byte[] rows, int offset)
        {
            dtype = space.WireDType;
            continuous = space is BoxSpace;
            ContinuousActions = new float[continuous ? space.Items : 0];
            DiscreteActions = new int[continuous ? 0 : space.Items];
            Raw = new ArraySegment<byte>(rows, offset, space.RowBytes);
        }

        public float[] ContinuousActions { get; private set; }
        public int[] DiscreteActions { get; private set; }
        public ArraySegment<byte> Raw { get; private set; }

        // Converts the raw row (just copied from the trainer's message) into the typed arrays.
        internal void Decode()
        {
            fixed (byte* row = Raw.Array)
            {
                byte* p = row + Raw.Offset;
                float[] f = ContinuousActions;
                int[] d = DiscreteActions;
                for (int i = 0; i < f.Length; i++) f[i] = (float)Item(p, i);
                for (int i = 0; i < d.Length; i++) d[i] = (int)Item(p, i);
            }
        }

        private double Item(byte* p, int i)
        {
            switch (dtype)
            {
                case EnvDType.Float32: return ((float*)p)[i];
                case EnvDType.Float64: return ((double*)p)[i];
                case EnvDType.Int8: return ((sbyte*)p)[i];
                case EnvDType.UInt8: return p[i];
                case EnvDType.Int16: return ((short*)p)[i];
                case EnvDType.UInt16: return ((ushort*)p)[i];
                case EnvDType.Int32: return ((int*)p)[i];
                case EnvDType.UInt32: return ((uint*)p)[i];
                case EnvDType.Int64: return ((long*)p)[i];
                default: return ((ulong*)p)[i];
            }
        }
    }

    /// <summary>
    /// An agent: subclass it and register it with an EnvDriver. Hooks, called by the driver on the
    /// game loop's thread: Initialize (once, when the env opens), OnEpisodeBegin (when the trainer
    /// resets this agent: EpisodeSeed says whether to reseed), CollectObservations (every answer),
    /// OnActionReceived (every decision, and between decisions with RepeatActions). Call
    /// AddReward/SetReward, EndEpisode (terminated) or EpisodeInterrupted (truncated, a time
    /// limit) from anywhere on that thread; they go with the next answer. After an episode ends
    /// the trainer resets the agent at its next decision (next-step autoreset), which calls
    /// OnEpisodeBegin; with EnvDriver.PartialReset and a trainer using same-step autoreset, at
    /// once: OnEpisodeBegin and CollectObservations run right after the answer that ended it.
    /// </summary>
    public abstract class EnvAgent
    {
        private double reward;
        private bool replaceReward;
        private bool terminated, truncated;
        private string info;

        /// <summary>This agent's row in the env (its registration order), -1 before registration.</summary>
        public int AgentIndex { get; internal set; } = -1;

        /// <summary>Frames (actions applied or skipped) since OnEpisodeBegin.</summary>
        public int StepCount { get; internal set; }

        /// <summary>Episodes this agent ended (EndEpisode or EpisodeInterrupted).</summary>
        public int CompletedEpisodes { get; private set; }

        /// <summary>Reward summed since OnEpisodeBegin.</summary>
        public float CumulativeReward { get; private set; }

        /// <summary>In OnEpisodeBegin: the trainer's seed for this agent (reset(seed=...)), or -1:
        /// continue the agent's random stream.</summary>
        public long EpisodeSeed { get; internal set; } = -1;

        public virtual void Initialize()
        {
        }

        public virtual void OnEpisodeBegin()
        {
        }

        public abstract void CollectObservations(ObservationWriter sensor);

        public abstract void OnActionReceived(ActionBuffers actions);

        /// <summary>Adds to the reward of the current step (they add up until the answer).</summary>
        public void AddReward(float increment)
        {
            reward += increment;
            CumulativeReward += increment;
        }

        /// <summary>Replaces the reward of the current step.</summary>
        public void SetReward(float value)
        {
            CumulativeReward += value - (float)reward;
            reward = value;
            replaceReward = true;
        }

        /// <summary>The episode reached a terminal state (gymnasium's terminated).</summary>
        public void EndEpisode()
        {
            terminated = true;
        }

        /// <summary>The episode was cut short, e.g. by a time limit (gymnasium's truncated).</summary>
        public void EpisodeInterrupted()
        {
            truncated = true;
        }

        /// <summary>True after EndEpisode or EpisodeInterrupted until the trainer resets the agent.</summary>
        public bool EpisodeEnded { get; private set; }

        /// <summary>An info for the next answer, a JSON object (e.g. "{\"end\": \"pole_fell\"}").</summary>
        public void SetInfo(string json)
        {
            info = json;
        }

        internal void BeginEpisode(long seed)
        {
            EpisodeSeed = seed;
            StepCount = 0;
            CumulativeReward = 0;
            EpisodeEnded = false;
            terminated = truncated = false;
            reward = 0;
            replaceReward = false;
            OnEpisodeBegin();
        }

        // Hands what was set since the last answer to the env, then forgets it.
        internal void Flush(WsEnv env)
        {
            int i = AgentIndex;
            if (replaceReward) env.SetReward(i, reward);
            else if (reward != 0) env.AddReward(i, reward);
            if ((terminated || truncated) && !EpisodeEnded)
            {
                env.SetDone(i, terminated, truncated);
                EpisodeEnded = true;
                CompletedEpisodes++;
            }
            if (info != null) env.SetInfo(i, info);
            reward = 0;
            replaceReward = false;
            terminated = truncated = false;
            info = null;
        }
    }
}
