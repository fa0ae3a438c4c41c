// A connection driven by the game loop: events and awaitable connect/receive on the thread that
// calls Update (Unity's main thread, through the WsbridgeConnection component), so handlers may
// touch any Unity API and nothing ever calls back from a native thread. This is the engine-free
// core of WsbridgeConnection (WsbridgeConnection.cs), compiled and tested under Mono.
//
// Update() raises, in order: Opened once the handshake completed; MessageReceived per message
// (after pending ReceiveAsync calls took theirs); Error then Closed once when the connection ends.
// With the same WsMessage reused and no ReceiveAsync pending, Update allocates nothing per
// message. The async forms (ConnectAsync, ReceiveAsync) complete inside Update, so they work
// without threads too (WebGL).
//
// Reconnect is not here on purpose: it belongs to the native library (WsOptions.Reconnect: one
// implementation for every binding, with backoff and jitter); State shows Reconnecting meanwhile,
// and Update raises Reconnected for each new connection (Error and Closed only if it gives up).

using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace Wsbridge
{
    public sealed class WsConnection : IDisposable
    {
        private readonly string url;
        private readonly WsOptions options;
        private readonly WsMessage message;
        private readonly Queue<Pending> receivers = new Queue<Pending>();
        private readonly List<TaskCompletionSource<bool>> connectWaiters = new List<TaskCompletionSource<bool>>();
        private WsClient client;
        private bool opened;
        private bool ended;
        private WsCloseStatus? closeStatus;
        private WsException closeError;

        private struct Pending
        {
            public WsMessage Into;
            public TaskCompletionSource<WsReceiveResult> Done;
        }

        /// <param name="url">ws://host:port/path (or wss://) of the trainer.</param>
        /// <param name="options">Options of the connection; null for the library's defaults.</param>
        /// <param name="message">The buffer MessageReceived hands out (reused); null for a new 4 KiB one.</param>
        public WsConnection(string url, WsOptions options = null, WsMessage message = null)
        {
            if (url == null) throw new ArgumentNullException("url");
            this.url = url;
            this.options = options;
            this.message = message ?? new WsMessage();
        }

        /// <summary>The connection is open (raised by Update).</summary>
        public event Action Opened;

        /// <summary>A message arrived (raised by Update). The WsMessage is reused: read it during the call.</summary>
        public event Action<WsMessage> MessageReceived;

        /// <summary>WsOptions.Reconnect only: the link was lost and a new connection is open (raised
        /// by Update, with WsClient.LastReconnect's facts). The trainer may not know this session:
        /// send what it needs first. A pending ReceiveAsync completes with Reconnected.</summary>
        public event Action<string> Reconnected;

        /// <summary>The connection failed or was lost (raised by Update just before Closed): the
        /// connect failure (Timeout, ConnectFailed, TlsFailed, HandshakeFailed) or the loss
        /// (ConnectionLost, ProtocolError, MessageTooBig, a WsRuntime.Shutdown).</summary>
        public event Action<WsException> Error;

        /// <summary>The connection ended (raised by Update once): the peer's close status (null if
        /// none) and the error if it failed. Not raised for a Close/CloseAsync called by the game.</summary>
        public event Action<WsCloseStatus?, WsException> Closed;

        public string Url { get { return url; } }

        /// <summary>Open() was called and the connection has neither ended nor been closed here.</summary>
        public bool IsActive { get { return client != null; } }

        /// <summary>Opened has been raised and the connection has not ended.</summary>
        public bool IsOpen { get { return client != null && opened; } }

        /// <summary>The state; Closed before Open() and after the end.</summary>
        public WsState State { get { return client == null ? WsState.Closed : client.State; } }

        /// <summary>The close status and error of the last connection that ended (see Closed).</summary>
        public WsCloseStatus? CloseStatus { get { return closeStatus; } }
        public WsException CloseError { get { return closeError; } }

        /// <summary>
        /// Starts connecting without blocking (WsClient.StartConnect); Update reports the outcome.
        /// Calling it again while a connection is active does nothing. Throws only for a malformed
        /// URL or option (WsException, InvalidArgument) or the native library missing.
        /// </summary>
        public void Open()
        {
            if (client != null) return;
            opened = false;
            ended = false;
            closeStatus = null;
            closeError = null;
            client = WsClient.StartConnect(url, options);
        }

        /// <summary>
        /// Open() and a task that completes (during Update) when the connection is open, or faults
        /// with the WsException that ended it. Await it from the thread that calls Update.
        /// </summary>
        public Task ConnectAsync()
        {
            Open();
            if (opened) return Task.FromResult(true);
            var done = new TaskCompletionSource<bool>();
            connectWaiters.Add(done);
            return done.Task;
        }

        /// <summary>
        /// The next message, into `into`, completed during Update: Message, or Closed when the
        /// connection ended (or was never opened). Pending receives take messages in call order,
        /// before MessageReceived sees them.
        /// </summary>
        public Task<WsReceiveResult> ReceiveAsync(WsMessage into)
        {
            if (into == null) throw new ArgumentNullException("into");
            if (client == null) return Task.FromResult(WsReceiveResult.Closed);
            var done = new TaskCompletionSource<WsReceiveResult>();
            receivers.Enqueue(new Pending { Into = into, Done = done });
            return done.Task;
        }

        /// <summary>Queues a text message (WsClient.Send): Queued, QueueFull or Closed; never throws for a network event.</summary>
        public WsSendResult Send(string text)
        {
            if (text == null) throw new ArgumentNullException("text");
            return client == null ? WsSendResult.Closed : client.Send(text);
        }

        /// <summary>Queues a binary (or text) message: Queued, QueueFull or Closed.</summary>
        public WsSendResult Send(ArraySegment<byte> data, WsMessageType type = WsMessageType.Binary)
        {
            return client == null ? WsSendResult.Closed : client.Send(data, type);
        }

        /// <summary>
        /// Dispatches what happened since the last call: Opened, up to maxMessages messages, the
        /// end. Call it once per frame from the game loop (WsbridgeConnection does, in Update).
        /// </summary>
        public void Update(int maxMessages = 256)
        {
            if (client == null) return;
            if (!opened && client.State == WsState.Open) RaiseOpened();
            for (int i = 0; i < maxMessages && client != null; i++)
            {
                WsMessage into = receivers.Count > 0 ? receivers.Peek().Into : message;
                if (!client.TryReceive(into)) break;
                if (into.Type == WsMessageType.Reconnected)
                {
                    if (receivers.Count > 0) receivers.Dequeue().Done.TrySetResult(WsReceiveResult.Reconnected);
                    if (Reconnected != null) Reconnected(client.LastReconnect);
                    continue;
                }
                if (into.Type == WsMessageType.Close)
                {
                    End();
                    return;
                }
                if (!opened) RaiseOpened(); // a message can only come from an open connection
                if (receivers.Count > 0) receivers.Dequeue().Done.TrySetResult(WsReceiveResult.Message);
                else if (MessageReceived != null) MessageReceived(message);
            }
        }

        /// <summary>
        /// Closes without blocking the frame (WsClient.CloseAsync: the library finishes the
        /// handshake in the background within timeoutMs). Pending receives complete with Closed;
        /// Closed is not raised.
        /// </summary>
        public Task<bool> CloseAsync(ushort code = WsCloseCode.Normal, string reason = null, int timeoutMs = 1000)
        {
            if (client == null) return Task.FromResult(true);
            WsClient closing = client;
            Task<bool> closed = closing.CloseAsync(code, reason, timeoutMs);
            Forget(closing);
            FailWaiters(new WsException(WsResult.Closed, "WSB_CLOSED: the connection to " + url + " was closed by CloseAsync()"));
            return closed;
        }

        /// <summary>Closes with 1001 "going away" without blocking (CloseAsync); harmless twice.</summary>
        public void Dispose()
        {
            if (client != null) CloseAsync(WsCloseCode.GoingAway, "going away", 1000);
        }

        private void RaiseOpened()
        {
            opened = true;
            for (int i = 0; i < connectWaiters.Count; i++) connectWaiters[i].TrySetResult(true);
            connectWaiters.Clear();
            if (Opened != null) Opened();
        }

        private void End()
        {
            WsClient done = client;
            closeStatus = done.CloseStatus;
            closeError = done.CloseError;
            ended = true;
            Forget(done);
            done.Dispose();
            FailWaiters(closeError ?? new WsException(WsResult.Closed, "WSB_CLOSED: the connection to " + url + " ended before it opened" +
                                                                       (closeStatus.HasValue ? " (" + closeStatus.Value + ")" : "")));
            if (closeError != null && Error != null) Error(closeError);
            if (Closed != null) Closed(closeStatus, closeError);
        }

        private void Forget(WsClient done)
        {
            if (client == done) client = null;
            opened = false;
        }

        private void FailWaiters(WsException why)
        {
            for (int i = 0; i < connectWaiters.Count; i++) connectWaiters[i].TrySetException(why);
            connectWaiters.Clear();
            while (receivers.Count > 0)
            {
                Pending p = receivers.Dequeue();
                p.Into.Set(WsMessageType.Close, 0);
                p.Done.TrySetResult(WsReceiveResult.Closed);
            }
        }

        /// <summary>True once a connection opened by Open() has ended (Closed was raised), until the next Open().</summary>
        public bool HasEnded { get { return ended; } }
    }
}
