// What a trainable game declares once, as typed C#: its spaces (EnvSpace: Box, Discrete,
// MultiDiscrete, MultiBinary; Dict and Tuple of them for observations, with their parts), its
// agent count, name and whether it resets agents one by one (EnvSpec), and the env's options
// (EnvOptions). Each serialises itself to the JSON wsb_env_open takes (docs/env.md); the native
// library checks it and names a bad key. Nothing here runs per step.

using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Text;

namespace Wsbridge
{
    /// <summary>The numeric types rows travel in (docs/protocol.md), little-endian.</summary>
    public enum EnvDType
    {
        Int8, UInt8, Int16, UInt16, Int32, UInt32, Int64, UInt64, Float32, Float64,
    }

    /// <summary>
    /// One agent's observation or action space, as gymnasium has them: Box (any dtype; UInt8 for
    /// images), Discrete, MultiDiscrete, MultiBinary. Rows are raw items of the space's WireDType
    /// in C order: the box's dtype; Int64 for Discrete and MultiDiscrete; Int8 for MultiBinary.
    /// An observation space may also be a Dict or a Tuple of spaces (several sensors): its Parts
    /// are its leaves, dict keys sorted and tuple items in order, and an agent's row is the
    /// parts' rows one after the other (docs/protocol.md, "Dict and tuple observations").
    /// </summary>
    public abstract class EnvSpace
    {
        internal EnvSpace(EnvDType wire, int items)
        {
            WireDType = wire;
            Items = items;
            if (!(this is CompositeSpace)) Parts = Array.AsReadOnly(new[] { new EnvSpacePart("", this, 0) });
        }

        /// <summary>The dtype of a row's items on the wire (a Dict or Tuple: UInt8, its row taken as bytes).</summary>
        public EnvDType WireDType { get; private set; }

        /// <summary>Items in one agent's row (a box's elements, a MultiDiscrete's dimensions ...; a
        /// Dict or Tuple: its RowBytes).</summary>
        public int Items { get; private set; }

        /// <summary>Bytes of one agent's row.</summary>
        public int RowBytes { get { return Items * SizeOf(WireDType); } }

        /// <summary>True for a Dict or Tuple.</summary>
        public bool IsComposite { get { return this is CompositeSpace; } }

        /// <summary>The leaves in wire order, each with its path ("camera", "1.bits") and its offset
        /// in an agent's row; a plain space is its own single part, path "".</summary>
        public ReadOnlyCollection<EnvSpacePart> Parts { get; internal set; }

        /// <summary>The space as the JSON object of docs/protocol.md.</summary>
        public string ToJson()
        {
            var json = new StringBuilder();
            Write(json);
            return json.ToString();
        }

        public override string ToString()
        {
            return ToJson();
        }

        internal abstract void Write(StringBuilder json);

        /// <summary>Box(low, high, shape, dtype): the same bounds for every element; ±infinity allowed.</summary>
        public static EnvSpace Box(double low, double high, int[] shape, EnvDType dtype = EnvDType.Float32)
        {
            return new BoxSpace(shape, dtype, low, high, null, null);
        }

        /// <summary>Box with one bound per element (C order, product(shape) each).</summary>
        public static EnvSpace Box(double[] low, double[] high, int[] shape, EnvDType dtype = EnvDType.Float32)
        {
            if (low == null) throw new ArgumentNullException("low");
            if (high == null) throw new ArgumentNullException("high");
            return new BoxSpace(shape, dtype, 0, 0, low, high);
        }

        /// <summary>Discrete(n, start): one of start ... start + n - 1.</summary>
        public static EnvSpace Discrete(long n, long start = 0)
        {
            if (n < 1) throw new ArgumentOutOfRangeException("n", n, "a Discrete space has at least 1 value");
            return new DiscreteSpace(n, start);
        }

        /// <summary>MultiDiscrete(nvec): dimension j is one of 0 ... nvec[j] - 1.</summary>
        public static EnvSpace MultiDiscrete(params long[] nvec)
        {
            if (nvec == null || nvec.Length == 0) throw new ArgumentException("a MultiDiscrete space needs nvec", "nvec");
            return new MultiDiscreteSpace((long[])nvec.Clone());
        }

        /// <summary>MultiBinary(n) or MultiBinary([n1, n2, ...]): 0 or 1 per item.</summary>
        public static EnvSpace MultiBinary(params int[] shape)
        {
            if (shape == null || shape.Length == 0) throw new ArgumentException("a MultiBinary space needs n", "shape");
            return new MultiBinarySpace((int[])shape.Clone());
        }

        /// <summary>Dict(spaces), for observations: one part per leaf, keys sorted (ordinal, as
        /// gymnasium orders a Dict), whatever the dictionary's order. Keys: 1 to 64 characters of
        /// A-Z a-z 0-9 _ -; at most 4 levels and 16 leaves (the library checks and names the key).</summary>
        public static EnvSpace Dict(IDictionary<string, EnvSpace> spaces)
        {
            if (spaces == null) throw new ArgumentNullException("spaces");
            if (spaces.Count == 0) throw new ArgumentException("a Dict space needs at least one space", "spaces");
            var keys = new string[spaces.Count];
            spaces.Keys.CopyTo(keys, 0);
            Array.Sort(keys, string.CompareOrdinal);
            var items = new EnvSpace[keys.Length];
            for (int i = 0; i < keys.Length; i++)
            {
                items[i] = spaces[keys[i]];
                if (items[i] == null) throw new ArgumentNullException("spaces", "the Dict space's \"" + keys[i] + "\" is null");
            }
            return new CompositeSpace(keys, items);
        }

        /// <summary>Tuple(spaces), for observations: one part per leaf, in order.</summary>
        public static EnvSpace Tuple(params EnvSpace[] spaces)
        {
            if (spaces == null || spaces.Length == 0) throw new ArgumentException("a Tuple space needs at least one space", "spaces");
            if (Array.IndexOf(spaces, null) >= 0) throw new ArgumentNullException("spaces", "item " + Array.IndexOf(spaces, null) + " of the Tuple space is null");
            return new CompositeSpace(null, (EnvSpace[])spaces.Clone());
        }

        internal static int SizeOf(EnvDType t)
        {
            switch (t)
            {
                case EnvDType.Int8: case EnvDType.UInt8: return 1;
                case EnvDType.Int16: case EnvDType.UInt16: return 2;
                case EnvDType.Int32: case EnvDType.UInt32: case EnvDType.Float32: return 4;
                default: return 8;
            }
        }

        internal static string Name(EnvDType t)
        {
            return t.ToString().ToLowerInvariant(); // "float32", "uint8" ...
        }

        internal static int Product(int[] shape, string what)
        {
            if (shape == null) throw new ArgumentNullException(what);
            long n = 1;
            foreach (int d in shape)
            {
                if (d < 0) throw new ArgumentOutOfRangeException(what, d, "a dimension is negative");
                n *= d;
                if (n > int.MaxValue) throw new ArgumentOutOfRangeException(what, "the space has more than 2^31 items");
            }
            return (int)n;
        }

        internal static void List(StringBuilder json, int[] items)
        {
            json.Append('[');
            for (int i = 0; i < items.Length; i++) json.Append(i == 0 ? "" : ", ").Append(items[i].ToString(CultureInfo.InvariantCulture));
            json.Append(']');
        }

        // A JSON number; infinities as "inf"/"-inf" (what the protocol accepts for box bounds).
        internal static void Number(StringBuilder json, double v)
        {
            if (double.IsNaN(v)) throw new ArgumentException("a box bound is NaN");
            if (double.IsPositiveInfinity(v)) json.Append("\"inf\"");
            else if (double.IsNegativeInfinity(v)) json.Append("\"-inf\"");
            else if (v == Math.Floor(v) && Math.Abs(v) < 1e15) json.Append(((long)v).ToString(CultureInfo.InvariantCulture));
            else json.Append(v.ToString("G17", CultureInfo.InvariantCulture)); // Mono's "R" can lose the last digit
        }
    }

    /// <summary>One leaf of an observation space (EnvSpace.Parts): set it on its own with
    /// WsEnv.SetObservationPart (after WsEnv.ObservationPart), or as bytes Offset to Offset +
    /// Space.RowBytes of the agent's whole row.</summary>
    public sealed class EnvSpacePart
    {
        internal EnvSpacePart(string path, EnvSpace space, int offset)
        {
            Path = path;
            Space = space;
            Offset = offset;
        }

        /// <summary>Dict keys and tuple indices joined by "." ("camera", "1.bits"); "" for a plain space.</summary>
        public string Path { get; private set; }

        /// <summary>The leaf's space (never a Dict or Tuple).</summary>
        public EnvSpace Space { get; private set; }

        /// <summary>Where the leaf's row starts in an agent's row, in bytes.</summary>
        public int Offset { get; private set; }
    }

    internal sealed class CompositeSpace : EnvSpace
    {
        private readonly string[] keys; // a Dict's keys, sorted; null for a Tuple
        private readonly EnvSpace[] items;

        internal CompositeSpace(string[] keys, EnvSpace[] items) : base(EnvDType.UInt8, Bytes(items))
        {
            this.keys = keys;
            this.items = items;
            var parts = new List<EnvSpacePart>();
            int offset = 0;
            Collect(parts, "", ref offset);
            Parts = parts.AsReadOnly();
        }

        private static int Bytes(EnvSpace[] items)
        {
            long n = 0;
            foreach (EnvSpace item in items) n += item.RowBytes;
            if (n > int.MaxValue) throw new ArgumentOutOfRangeException("spaces", "the space has more than 2^31 bytes per row");
            return (int)n;
        }

        private void Collect(List<EnvSpacePart> parts, string prefix, ref int offset)
        {
            for (int i = 0; i < items.Length; i++)
            {
                string path = prefix + (keys != null ? keys[i] : i.ToString(CultureInfo.InvariantCulture));
                var composite = items[i] as CompositeSpace;
                if (composite != null)
                {
                    composite.Collect(parts, path + ".", ref offset);
                    continue;
                }
                parts.Add(new EnvSpacePart(path, items[i], offset));
                offset += items[i].RowBytes;
            }
        }

        internal override void Write(StringBuilder json)
        {
            json.Append(keys != null ? "{\"type\": \"dict\", \"spaces\": {" : "{\"type\": \"tuple\", \"spaces\": [");
            for (int i = 0; i < items.Length; i++)
            {
                if (i > 0) json.Append(", ");
                if (keys != null) WsOptions.Quote(json, keys[i]).Append(": ");
                items[i].Write(json);
            }
            json.Append(keys != null ? "}}" : "]}");
        }
    }

    internal sealed class BoxSpace : EnvSpace
    {
        private readonly int[] shape;
        private readonly EnvDType dtype;
        private readonly double low, high;
        private readonly double[] lows, highs;

        internal BoxSpace(int[] shape, EnvDType dtype, double low, double high, double[] lows, double[] highs)
            : base(dtype, Product(shape, "shape"))
        {
            this.shape = (int[])shape.Clone();
            this.dtype = dtype;
            this.low = low;
            this.high = high;
            if (lows != null && (lows.Length != Items || highs.Length != Items))
                throw new ArgumentException("box bounds: " + lows.Length + " lows and " + highs.Length + " highs for " + Items + " elements");
            this.lows = lows == null ? null : (double[])lows.Clone();
            this.highs = highs == null ? null : (double[])highs.Clone();
        }

        internal override void Write(StringBuilder json)
        {
            json.Append("{\"type\": \"box\", \"shape\": ");
            List(json, shape);
            json.Append(", \"dtype\": \"").Append(Name(dtype)).Append("\", \"low\": ");
            Bound(json, low, lows);
            json.Append(", \"high\": ");
            Bound(json, high, highs);
            json.Append('}');
        }

        private void Bound(StringBuilder json, double scalar, double[] each)
        {
            if (each == null)
            {
                Number(json, scalar);
                return;
            }
            int next = 0;
            Nested(json, each, 0, ref next);
        }

        // Nested lists of exactly `shape`, as the protocol wants per-element bounds.
        private void Nested(StringBuilder json, double[] each, int dim, ref int next)
        {
            json.Append('[');
            for (int i = 0; i < shape[dim]; i++)
            {
                if (i > 0) json.Append(", ");
                if (dim + 1 < shape.Length) Nested(json, each, dim + 1, ref next);
                else Number(json, each[next++]);
            }
            json.Append(']');
        }
    }

    internal sealed class DiscreteSpace : EnvSpace
    {
        private readonly long n, start;

        internal DiscreteSpace(long n, long start) : base(EnvDType.Int64, 1)
        {
            this.n = n;
            this.start = start;
        }

        internal override void Write(StringBuilder json)
        {
            json.Append("{\"type\": \"discrete\", \"n\": ").Append(n.ToString(CultureInfo.InvariantCulture));
            if (start != 0) json.Append(", \"start\": ").Append(start.ToString(CultureInfo.InvariantCulture));
            json.Append('}');
        }
    }

    internal sealed class MultiDiscreteSpace : EnvSpace
    {
        private readonly long[] nvec;

        internal MultiDiscreteSpace(long[] nvec) : base(EnvDType.Int64, nvec.Length)
        {
            this.nvec = nvec;
        }

        internal override void Write(StringBuilder json)
        {
            json.Append("{\"type\": \"multi_discrete\", \"nvec\": [");
            for (int i = 0; i < nvec.Length; i++) json.Append(i == 0 ? "" : ", ").Append(nvec[i].ToString(CultureInfo.InvariantCulture));
            json.Append("]}");
        }
    }

    internal sealed class MultiBinarySpace : EnvSpace
    {
        private readonly int[] shape;

        internal MultiBinarySpace(int[] shape) : base(EnvDType.Int8, Product(shape, "shape"))
        {
            this.shape = shape;
        }

        internal override void Write(StringBuilder json)
        {
            json.Append("{\"type\": \"multi_binary\", \"n\": ");
            if (shape.Length == 1) json.Append(shape[0].ToString(CultureInfo.InvariantCulture));
            else List(json, shape);
            json.Append('}');
        }
    }

    /// <summary>What a game declares once (the hello): a name for the trainer's logs, how many
    /// agents it simulates (one row each in every message), one agent's spaces, and whether it
    /// resets agents one by one (PartialReset: same-step autoreset).</summary>
    public sealed class EnvSpec
    {
        public EnvSpec(EnvSpace observationSpace, EnvSpace actionSpace, int agents = 1, string name = null)
        {
            if (observationSpace == null) throw new ArgumentNullException("observationSpace");
            if (actionSpace == null) throw new ArgumentNullException("actionSpace");
            if (actionSpace.IsComposite) throw new ArgumentException("an action space cannot be a Dict or Tuple (they are for observations)", "actionSpace");
            if (agents < 1) throw new ArgumentOutOfRangeException("agents", agents, "a game simulates at least 1 agent");
            ObservationSpace = observationSpace;
            ActionSpace = actionSpace;
            Agents = agents;
            Name = name;
        }

        public EnvSpace ObservationSpace { get; private set; }
        public EnvSpace ActionSpace { get; private set; }
        public int Agents { get; private set; }
        public string Name { get; private set; }

        /// <summary>
        /// True when the game handles a Reset event that flags only some agents: it resets exactly
        /// the agents WsEnv.AgentReset flags and never steps in a Reset. The hello then offers the
        /// trainer same-step autoreset (gymnasium's SAME_STEP: the answer that ends an episode also
        /// carries the next episode's first observation, no junk step). Default false.
        /// </summary>
        public bool PartialReset { get; set; }

        /// <summary>The spec_json of wsb_env_open.</summary>
        public string ToJson()
        {
            var json = new StringBuilder("{");
            if (Name != null) WsOptions.Quote(json.Append("\"name\": "), Name).Append(", ");
            json.Append("\"agents\": ").Append(Agents.ToString(CultureInfo.InvariantCulture));
            if (PartialReset) json.Append(", \"partial_reset\": true");
            json.Append(", \"observation_space\": ");
            ObservationSpace.Write(json);
            json.Append(", \"action_space\": ");
            ActionSpace.Write(json);
            return json.Append('}').ToString();
        }

        public override string ToString()
        {
            return ToJson();
        }
    }

    /// <summary>The env's options (options_json of wsb_env_open); null keeps the library's default.</summary>
    public sealed class EnvOptions
    {
        /// <summary>The connection's options (timeouts, TLS, proxy, headers).</summary>
        public WsOptions Connection { get; set; }

        /// <summary>Sent as Authorization: Bearer (the hub checks it before the upgrade).</summary>
        public string Token { get; set; }

        /// <summary>Wait after a failed connect attempt, doubling each time (default 50).</summary>
        public int? ReconnectDelayMs { get; set; }

        /// <summary>Cap on that wait (default 1000).</summary>
        public int? ReconnectMaxDelayMs { get; set; }

        /// <summary>Give up when no connection opened for this long (default 30000; -1 never).</summary>
        public int? ReconnectGiveUpMs { get; set; }

        /// <summary>Frames per decision, as ML-Agents' DecisionRequester.DecisionPeriod (default 1).</summary>
        public int? DecisionPeriod { get; set; }

        /// <summary>Between decisions: repeat the last action (true, the default) or act on none,
        /// as DecisionRequester.TakeActionsBetweenDecisions.</summary>
        public bool? RepeatActions { get; set; }

        /// <summary>True: the URL given to WsEnv.Open is a lobby's; the env asks it for a free slot,
        /// connects there, and goes back to it when the slot is gone for good (docs/env.md, Lobby).
        /// WsEnv.SlotUrl then says which slot it was assigned.</summary>
        public bool? Lobby { get; set; }

        /// <summary>With Lobby: the lobby assigns a slot of a hub serving this env name ("" or null:
        /// any hub).</summary>
        public string EnvName { get; set; }

        /// <summary>With Lobby: go back to the lobby when reconnecting to the assigned slot has failed
        /// for this long (default 5000).</summary>
        public int? LobbyReturnMs { get; set; }

        public string ToJson()
        {
            var json = new StringBuilder("{");
            if (Connection != null) Key(json, "connection").Append(Connection.ToJson());
            if (Token != null) WsOptions.Quote(Key(json, "token"), Token);
            Number(json, "reconnect_delay_ms", ReconnectDelayMs);
            Number(json, "reconnect_max_delay_ms", ReconnectMaxDelayMs);
            Number(json, "reconnect_give_up_ms", ReconnectGiveUpMs);
            Number(json, "decision_period", DecisionPeriod);
            if (RepeatActions.HasValue) Key(json, "repeat_actions").Append(RepeatActions.Value ? "true" : "false");
            if (Lobby.HasValue) Key(json, "lobby").Append(Lobby.Value ? "true" : "false");
            if (EnvName != null) WsOptions.Quote(Key(json, "env_name"), EnvName);
            Number(json, "lobby_return_ms", LobbyReturnMs);
            return json.Append('}').ToString();
        }

        public override string ToString()
        {
            return ToJson();
        }

        private static StringBuilder Key(StringBuilder json, string name)
        {
            if (json.Length > 1) json.Append(", ");
            return json.Append('"').Append(name).Append("\": ");
        }

        private static void Number(StringBuilder json, string name, int? value)
        {
            if (value.HasValue) Key(json, name).Append(value.Value.ToString(CultureInfo.InvariantCulture));
        }
    }
}
