// A reusable receive buffer. Pass the same WsMessage to WsClient.TryReceive every frame: the
// message is copied once, from the library into Buffer, and nothing is allocated per message.
// The buffer grows (to the next power of two) only when a larger message arrives.

using System;

namespace Wsbridge
{
    public sealed class WsMessage
    {
        private const int DefaultCapacity = 4096;

        private byte[] buffer;
        private int count;
        private WsMessageType type;

        public WsMessage() : this(DefaultCapacity)
        {
        }

        /// <param name="capacity">Initial buffer size in bytes; 0 is allowed (the first message sizes it).</param>
        public WsMessage(int capacity)
        {
            if (capacity < 0) throw new ArgumentOutOfRangeException("capacity", capacity, "must not be negative");
            buffer = capacity == 0 ? EmptyBytes : new byte[capacity];
        }

        private static readonly byte[] EmptyBytes = new byte[0];

        /// <summary>Text, Binary, or Close (the connection has closed; Count is 0).</summary>
        public WsMessageType Type { get { return type; } }

        /// <summary>Length of the message in bytes: Buffer[0 .. Count) holds it.</summary>
        public int Count { get { return count; } }

        /// <summary>
        /// The storage. Only the first Count bytes are the message; the array itself may be
        /// replaced by a larger one when a bigger message arrives, so do not keep it across receives.
        /// </summary>
        public byte[] Buffer { get { return buffer; } }

        /// <summary>The current buffer size in bytes.</summary>
        public int Capacity { get { return buffer.Length; } }

        /// <summary>The message bytes, without a copy (valid until the next receive into this object).</summary>
        public ArraySegment<byte> Data { get { return new ArraySegment<byte>(buffer, 0, count); } }

        /// <summary>Decodes the message as UTF-8 (allocates the string).</summary>
        public string GetText()
        {
            return Utf8.Decode(buffer, 0, count);
        }

        /// <summary>A copy of the message bytes (allocates).</summary>
        public byte[] ToArray()
        {
            var copy = new byte[count];
            System.Buffer.BlockCopy(buffer, 0, copy, 0, count);
            return copy;
        }

        public override string ToString()
        {
            return type == WsMessageType.Close ? "Close" : type + " (" + count + " bytes)";
        }

        internal void Set(WsMessageType messageType, int length)
        {
            type = messageType;
            count = length;
        }

        // Makes room for a message of `needed` bytes; the old contents are not kept.
        internal void Reserve(int needed)
        {
            if (needed <= buffer.Length) return;
            int size = 64;
            while (size < needed && size < (1 << 30)) size <<= 1;
            buffer = new byte[Math.Max(size, needed)];
        }
    }
}
