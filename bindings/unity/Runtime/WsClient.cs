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
using System.Threading.Tasks;

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
        private volatile string lastReconnect;

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

        /// <summary>WsOptions.Reconnect only: what the latest Reconnected message was about (what
        /// ended the previous connection, after how many attempts and how long the new one
        /// opened, how many queued messages went to it); null before the first.</summary>
        public string LastReconnect
        {
            get { return lastReconnect; }
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

        /// <summary>The subprotocol the server selected from WsOptions.Subprotocols, or "" (also
        /// once the connection has ended or was closed here).</summary>
        public string Subprotocol
        {
            get
            {
                ThrowIfDisposed();
                ulong h = native.Handle;
                if (h == 0) return "";
                byte* small = stackalloc byte[64];
                UIntPtr length;
                uint result = NativeMethods.wsb_subprotocol(h, small, (UIntPtr)64u, &length);
                if (Ended(result)) return "";
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

        /// <summary>
        /// Queues a text message (UTF-8 encoded without allocating, up to 64 KiB) and returns at
        /// once. Never throws for a network event: Queued, QueueFull (the send queue is at
        /// WsOptions.SendQueueMaxBytes; the message was not queued, so retrying never duplicates it)
        /// or Closed (the connection has ended or is closing; the Close message reaches the game
        /// through TryReceive/Receive). Throws only for programmer errors: null, text over
        /// MaxMessageSize (WsException MessageTooBig), use after Dispose (ObjectDisposedException).
        /// </summary>
        public WsSendResult Send(string text)
        {
            return Sent(SendText(text));
        }

        /// <summary>Queues a binary message and returns at once (the bytes are copied). Results as Send(string).</summary>
        public WsSendResult Send(byte[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            return Sent(SendBytes(data, 0, data.Length, NativeMethods.WSB_BINARY));
        }

        /// <summary>Queues a part of an array as one message (binary by default, or text if it is UTF-8). Results as Send(string).</summary>
        public WsSendResult Send(ArraySegment<byte> data, WsMessageType type = WsMessageType.Binary)
        {
            return Sent(SendBytes(data.Array, data.Offset, data.Count, Kind(type)));
        }

        /// <summary>Send(text) == WsSendResult.Queued: false when the queue is full or the
        /// connection has ended (never throws for either; the message was then not queued).</summary>
        public bool TrySend(string text)
        {
            return Send(text) == WsSendResult.Queued;
        }

        /// <summary>Send(data, type) == WsSendResult.Queued: false when the queue is full or the connection has ended.</summary>
        public bool TrySend(ArraySegment<byte> data, WsMessageType type = WsMessageType.Binary)
        {
            return Send(data, type) == WsSendResult.Queued;
        }

        /// <summary>Waits until every message queued so far has been written to the socket, or
        /// <paramref name="timeoutMs"/> passes (0 only checks, -1 waits without limit). Returns false on
        /// timeout (the peer reads slower than the game sends) and when the connection has ended
        /// (State is then Closed; the Close message comes through TryReceive/Receive).</summary>
        public bool Flush(int timeoutMs)
        {
            ThrowIfDisposed();
            if (timeoutMs < -1) throw new ArgumentOutOfRangeException("timeoutMs", timeoutMs, "use -1 (no limit), 0 or a positive number of milliseconds");
            ulong h = native.Handle;
            if (h == 0) return false;
            uint result = NativeMethods.wsb_flush(h, timeoutMs);
            GC.KeepAlive(native);
            if (result == NativeMethods.WSB_OK) return true;
            if (result == NativeMethods.WSB_TIMEOUT || Ended(result)) return false;
            throw Failure(result);
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
            ThrowIfDisposed();
            ulong h = native.Handle;
            if (h == 0) return NativeMethods.WSB_INVALID_HANDLE; // closed by Close() or the close was delivered
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

        // A send's result for the game: network events are values, programmer errors throw.
        private WsSendResult Sent(uint result)
        {
            if (result == NativeMethods.WSB_OK) return WsSendResult.Queued;
            if (result == NativeMethods.WSB_WOULD_BLOCK) return WsSendResult.QueueFull;
            if (Ended(result))
            {
                ThrowIfDisposed();
                return WsSendResult.Closed;
            }
            throw Failure(result);
        }

        // Results that mean the connection has ended (or was closed here): a network event.
        private static bool Ended(uint result)
        {
            switch (result)
            {
                case NativeMethods.WSB_CLOSED:
                case NativeMethods.WSB_CONNECTION_LOST:
                case NativeMethods.WSB_INVALID_HANDLE:
                case NativeMethods.WSB_PROTOCOL_ERROR:
                case NativeMethods.WSB_CONNECT_FAILED:
                case NativeMethods.WSB_TLS_FAILED:
                case NativeMethods.WSB_HANDSHAKE_FAILED:
                    return true;
                default:
                    return false;
            }
        }

        // ---- Closing -------------------------------------------------------------------------

        /// <summary>
        /// Flushes queued messages, performs the close handshake with `code` and `reason` (at most
        /// 123 UTF-8 bytes) and releases the connection, waiting at most timeoutMs (0: do not wait).
        /// This BLOCKS the calling thread: from a game loop use CloseAsync, which returns at once.
        /// A Receive waiting on another thread returns at once. Returns true if the handshake
        /// completed (or the connection had already ended), false if it timed out and the
        /// connection was dropped. Throws WsException (InvalidArgument) for a code outside 1000-1003,
        /// 1007-1014, 3000-4999 or a reason too long, and then changes nothing.
        /// </summary>
        public bool Close(ushort code = WsCloseCode.Normal, string reason = null, int timeoutMs = 1000)
        {
            ThrowIfDisposed();
            CheckTimeout(timeoutMs);
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
        /// Closes without blocking the calling thread (wsb_close_async): the connection is taken
        /// from this WsClient at once (State is Closed, Send returns Closed, Dispose has nothing
        /// left to do) and the library finishes the close handshake of Close(code, reason,
        /// timeoutMs) in the background, on its own I/O thread, so a frozen trainer never stalls a
        /// frame; WsRuntime.Shutdown waits for closes still under way (and returns false if one
        /// did not complete in time). The task is already complete when this returns (true: the
        /// close is under way; how the handshake ends is not reported). A code or reason that
        /// Close would refuse faults the task with WsException (InvalidArgument) after dropping
        /// the connection with 1001. Nothing to observe: the task may be ignored.
        /// </summary>
        public Task<bool> CloseAsync(ushort code = WsCloseCode.Normal, string reason = null, int timeoutMs = 1000)
        {
            ThrowIfDisposed();
            CheckTimeout(timeoutMs);
            byte[] reasonBytes = Utf8.NullTerminated(reason);
            Volatile.Write(ref closedLocally, 1);
            ulong h = native.Take();
            if (h == 0) return Task.FromResult(true);
            uint result = NativeConnection.ReleaseAsync(h, code, reasonBytes, timeoutMs);
            if (result == NativeMethods.WSB_INVALID_ARGUMENT || result == NativeMethods.WSB_INTERNAL)
            {
                WsException failure = WsException.FromNative(result);
                NativeConnection.ReleaseAsync(h, WsCloseCode.GoingAway, null, 0);
                var faulted = new TaskCompletionSource<bool>();
                faulted.SetException(failure);
                return faulted.Task;
            }
            return Task.FromResult(true);
        }

        private static void CheckTimeout(int timeoutMs)
        {
            if (timeoutMs < -1) throw new ArgumentOutOfRangeException("timeoutMs", timeoutMs, "use -1 (no limit), 0 or a positive number of milliseconds");
        }

        /// <summary>
        /// Releases the connection without blocking: the close handshake with 1001 ("going away")
        /// finishes in the background within DisposeCloseTimeoutMs, like CloseAsync. Call Close
        /// first for a close that waits for the peer. Calling Dispose twice is harmless.
        /// </summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) != 0) return;
            Volatile.Write(ref closedLocally, 1);
            ulong h = native.Take();
            if (h != 0) NativeConnection.ReleaseAsync(h, WsCloseCode.GoingAway, null, DisposeCloseTimeoutMs);
        }

        /// <summary>How long the close handshake started by Dispose may take in the background
        /// (default 1000 ms; 0 drops the connection at once). Dispose never waits for it.</summary>
        public int DisposeCloseTimeoutMs
        {
            get { return disposeCloseTimeoutMs; }
            set
            {
                CheckTimeout(value);
                disposeCloseTimeoutMs = value;
            }
        }

        private volatile int disposeCloseTimeoutMs = 1000;

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
