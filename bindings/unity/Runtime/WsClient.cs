// One WebSocket connection to a trainer (or any ws:// or wss:// server). This file: opening,
// state, sending, closing; WsClient.Receive.cs: receiving.
//
// Made for a game loop: StartConnect returns at once, TryReceive polls without blocking and,
// given the same WsMessage every frame, allocates nothing per message; nothing ever calls back
// from a native thread, so whatever you do with a message happens on the thread that polled
// (the main thread in Update). Receive(message, timeoutMs) waits, for lockstep training.
//
// Every method may be called from any thread (the library is thread-safe); give each thread its
// own WsMessage. Use after Dispose throws ObjectDisposedException; a forgotten Dispose still
// closes the connection (with 1001) when the object is finalized.

using System;
using System.Threading;

namespace Wsbridge
{
    public sealed unsafe partial class WsClient : IDisposable
    {
        private readonly NativeConnection native;
        private readonly string url;
        private readonly int shutdownsAtStart;
        private readonly object gate = new object();
        private int disposed;
        private int closedLocally;
        private volatile bool closeReported;
        private WsCloseStatus? closeStatus;
        private WsException closeError;

        private WsClient(ulong handle, string url, int shutdownsAtStart)
        {
            native = new NativeConnection(handle);
            this.url = url;
            this.shutdownsAtStart = shutdownsAtStart;
        }

        /// <summary>
        /// Opens a connection and blocks until it is open (bounded by WsOptions.ConnectTimeoutMs,
        /// default 10 s). Throws WsException: InvalidArgument (malformed URL or option), Timeout,
        /// ConnectFailed (DNS, TCP or proxy), TlsFailed, HandshakeFailed (e.g. HTTP 404 for an
        /// unrouted path), ConnectionLost.
        /// </summary>
        /// <param name="url">ws://host[:port][/path][?query] or wss://... for TLS, e.g. ws://127.0.0.1:8001/env/17</param>
        public static WsClient Connect(string url, WsOptions options = null)
        {
            return Open(url, options, false);
        }

        /// <summary>
        /// Starts opening a connection and returns at once (State is Connecting), so the main
        /// thread never waits. Messages sent meanwhile are queued and go out once it opens. If the
        /// connection fails, TryReceive delivers a Close message and CloseError says why. Throws
        /// only for a malformed URL or option (WsException, InvalidArgument).
        /// </summary>
        public static WsClient StartConnect(string url, WsOptions options = null)
        {
            return Open(url, options, true);
        }

        private static WsClient Open(string url, WsOptions options, bool async)
        {
            if (url == null) throw new ArgumentNullException("url");
            WsRuntime.EnsureLoaded();
            byte[] urlBytes = Utf8.NullTerminated(url);
            byte[] optionBytes = options == null ? null : Utf8.NullTerminated(options.ToJson());
            int shutdowns = WsRuntime.ShutdownCount;
            ulong handle;
            uint result;
            fixed (byte* u = urlBytes)
            fixed (byte* o = optionBytes)
            {
                result = async
                    ? NativeMethods.wsb_connect_async(u, o, &handle)
                    : NativeMethods.wsb_connect(u, o, &handle);
            }
            if (result != NativeMethods.WSB_OK) throw WsException.FromNative(result);
            return new WsClient(handle, url, shutdowns);
        }

        /// <summary>The URL given to Connect or StartConnect.</summary>
        public string Url
        {
            get { return url; }
        }

        /// <summary>Connecting, Open, Closing or Closed (also Closed once disposed or shut down). Never blocks.</summary>
        public WsState State
        {
            get
            {
                ulong h = native.Handle;
                if (h == 0) return WsState.Closed;
                uint state;
                uint result = NativeMethods.wsb_state(h, &state);
                GC.KeepAlive(native);
                if (result != NativeMethods.WSB_OK) return WsState.Closed; // released meanwhile, or shut down
                return (WsState)state;
            }
        }

        /// <summary>True once Dispose has been called.</summary>
        public bool IsDisposed
        {
            get { return Volatile.Read(ref disposed) != 0; }
        }

        /// <summary>
        /// The close code and reason the peer sent, once the Close message has been received
        /// (1006 when the connection ended without the peer's close frame); null before that.
        /// </summary>
        public WsCloseStatus? CloseStatus
        {
            get { lock (gate) return closeStatus; }
        }

        /// <summary>
        /// Why the connection ended, once the Close message has been received: null for a close
        /// handshake; otherwise the failure (ConnectionLost, ProtocolError, MessageTooBig, or for
        /// StartConnect the connect failure: Timeout, ConnectFailed, TlsFailed, HandshakeFailed ...).
        /// </summary>
        public WsException CloseError
        {
            get { lock (gate) return closeError; }
        }

        /// <summary>The subprotocol the server selected from WsOptions.Subprotocols, or "".</summary>
        public string Subprotocol
        {
            get
            {
                ulong h = LiveHandle();
                byte* small = stackalloc byte[64];
                UIntPtr length;
                uint result = NativeMethods.wsb_subprotocol(h, small, (UIntPtr)64u, &length);
                if (result != NativeMethods.WSB_OK) throw Failure(result);
                int n = (int)(ulong)length;
                if (n < 64) return Utf8.FromNative(small, n);
                var big = new byte[n + 1];
                fixed (byte* p = big)
                {
                    result = NativeMethods.wsb_subprotocol(h, p, (UIntPtr)(uint)big.Length, &length);
                    if (result != NativeMethods.WSB_OK) throw Failure(result);
                    return Utf8.FromNative(p, Math.Min((int)(ulong)length, n));
                }
            }
        }

        // ---- Sending -------------------------------------------------------------------------

        /// <summary>Queues a text message (UTF-8 encoded without allocating, up to 64 KiB) and returns at once.</summary>
        public void Send(string text)
        {
            Check(SendText(text));
        }

        /// <summary>Queues a binary message and returns at once. The bytes are copied.</summary>
        public void Send(byte[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            Check(SendBytes(data, 0, data.Length, NativeMethods.WSB_BINARY));
        }

        /// <summary>Queues a part of an array as one message (binary by default, or text if it is UTF-8).</summary>
        public void Send(ArraySegment<byte> data, WsMessageType type = WsMessageType.Binary)
        {
            Check(SendBytes(data.Array, data.Offset, data.Count, Kind(type)));
        }

        /// <summary>Like Send, but returns false instead of throwing when the send queue is full
        /// (WsOptions.SendQueueMaxBytes); the message was then not queued, so retrying never duplicates it.</summary>
        public bool TrySend(string text)
        {
            return CheckWouldBlock(SendText(text));
        }

        /// <summary>Like Send, but returns false when the send queue is full (the message was not queued).</summary>
        public bool TrySend(ArraySegment<byte> data, WsMessageType type = WsMessageType.Binary)
        {
            return CheckWouldBlock(SendBytes(data.Array, data.Offset, data.Count, Kind(type)));
        }

        /// <summary>Waits until every message queued so far has been written to the socket, or
        /// <paramref name="timeoutMs"/> passes (0 only checks, -1 waits without limit). Returns false on
        /// timeout (the peer reads slower than the game sends); throws WsException if the connection ended.</summary>
        public bool Flush(int timeoutMs)
        {
            ulong h = LiveHandle();
            uint result = NativeMethods.wsb_flush(h, timeoutMs);
            GC.KeepAlive(native);
            if (result == NativeMethods.WSB_TIMEOUT) return false;
            Check(result);
            return true;
        }

        private uint SendText(string text)
        {
            if (text == null) throw new ArgumentNullException("text");
            int length;
            byte[] bytes = Utf8.Encode(text, out length);
            return SendBytes(bytes, 0, length, NativeMethods.WSB_TEXT);
        }

        private uint SendBytes(byte[] array, int offset, int count, uint kind)
        {
            if (array == null && count != 0) throw new ArgumentNullException("data");
            if (array != null && (offset < 0 || count < 0 || offset > array.Length - count))
                throw new ArgumentOutOfRangeException("data", "offset " + offset + " and count " + count + " do not fit an array of " + array.Length);
            ulong h = LiveHandle();
            uint result;
            fixed (byte* p = array)
            {
                result = NativeMethods.wsb_send(h, p == null ? null : p + offset, (UIntPtr)(uint)count, kind);
            }
            GC.KeepAlive(native);
            return result;
        }

        private static uint Kind(WsMessageType type)
        {
            if (type == WsMessageType.Text) return NativeMethods.WSB_TEXT;
            if (type == WsMessageType.Binary) return NativeMethods.WSB_BINARY;
            throw new ArgumentOutOfRangeException("type", type, "send Text or Binary");
        }

        private void Check(uint result)
        {
            if (result != NativeMethods.WSB_OK) throw Failure(result);
        }

        private bool CheckWouldBlock(uint result)
        {
            if (result == NativeMethods.WSB_WOULD_BLOCK) return false;
            Check(result);
            return true;
        }

        // ---- Closing -------------------------------------------------------------------------

        /// <summary>
        /// Flushes queued messages, performs the close handshake with `code` and `reason` (at most
        /// 123 UTF-8 bytes) and releases the connection, waiting at most timeoutMs (0: do not wait).
        /// A Receive waiting on another thread returns at once. Returns true if the handshake
        /// completed (or the connection had already ended), false if it timed out and the
        /// connection was dropped. Throws WsException (InvalidArgument) for a code outside 1000-1003,
        /// 1007-1014, 3000-4999 or a reason too long, and then changes nothing.
        /// </summary>
        public bool Close(ushort code = WsCloseCode.Normal, string reason = null, int timeoutMs = 1000)
        {
            ThrowIfDisposed();
            if (timeoutMs < -1) throw new ArgumentOutOfRangeException("timeoutMs", timeoutMs, "use -1 (no limit), 0 or a positive number of milliseconds");
            byte[] reasonBytes = Utf8.NullTerminated(reason);
            ulong h = native.Handle;
            if (h == 0) return true;
            uint result = NativeConnection.Release(h, code, reasonBytes, timeoutMs);
            if (result == NativeMethods.WSB_INVALID_ARGUMENT) throw WsException.FromNative(result);
            WsException failure = result == NativeMethods.WSB_INTERNAL ? WsException.FromNative(result) : null;
            Volatile.Write(ref closedLocally, 1);
            native.Take();
            if (failure != null) throw failure;
            return result != NativeMethods.WSB_TIMEOUT; // OK, or INVALID_HANDLE: it had ended already
        }

        /// <summary>
        /// Releases the connection without waiting: close frame 1001 ("going away") if the socket
        /// takes it at once, then the socket is dropped. Call Close first for a graceful close that
        /// waits for the peer. Calling Dispose twice is harmless.
        /// </summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) != 0) return;
            Volatile.Write(ref closedLocally, 1);
            ulong h = native.Take();
            if (h != 0) NativeConnection.Release(h, WsCloseCode.GoingAway, null, 0);
        }

        public override string ToString()
        {
            return "WsClient(" + url + ", " + (IsDisposed ? "Disposed" : State.ToString()) + ")";
        }

        // ---- Errors --------------------------------------------------------------------------

        private void ThrowIfDisposed()
        {
            if (Volatile.Read(ref disposed) != 0)
                throw new ObjectDisposedException("WsClient", "the WsClient for " + url + " was disposed");
        }

        // The handle for a call that needs an open one.
        private ulong LiveHandle()
        {
            ThrowIfDisposed();
            ulong h = native.Handle;
            if (h == 0) throw ClosedHere();
            return h;
        }

        private bool ShutDown()
        {
            return Volatile.Read(ref closedLocally) == 0 && WsRuntime.ShutdownCount != shutdownsAtStart;
        }

        // The exception for a result of a native call just made on this thread.
        private WsException Failure(uint result)
        {
            if (result == NativeMethods.WSB_INVALID_HANDLE)
            {
                ThrowIfDisposed();
                return ClosedHere();
            }
            return WsException.FromNative(result);
        }

        private WsException ClosedHere()
        {
            string why = ShutDown()
                ? "was closed by WsRuntime.Shutdown (an assembly reload, leaving play mode, or quitting)"
                : closeReported ? "has closed (the Close message was delivered)" : "was closed by Close()";
            return new WsException(WsResult.Closed, "WSB_CLOSED: the connection to " + url + " " + why);
        }
    }
}
