// The small value types of the public API.

namespace Wsbridge
{
    /// <summary>The state of a connection (wsb_state).</summary>
    public enum WsState
    {
        /// <summary>Resolving, connecting TCP or waiting for the HTTP upgrade (after StartConnect).</summary>
        Connecting = (int)NativeMethods.WSB_STATE_CONNECTING,
        /// <summary>Open: messages flow both ways.</summary>
        Open = (int)NativeMethods.WSB_STATE_OPEN,
        /// <summary>Close() is performing the close handshake.</summary>
        Closing = (int)NativeMethods.WSB_STATE_CLOSING,
        /// <summary>Closed by either side, failed, lost, disposed, or shut down (with
        /// WsOptions.Reconnect: not retried, or given up).</summary>
        Closed = (int)NativeMethods.WSB_STATE_CLOSED,
        /// <summary>WsOptions.Reconnect only: the link was lost (or an attempt failed); waiting out
        /// the backoff or connecting again. Send queues meanwhile (up to SendQueueMaxBytes); a
        /// Reconnected message follows the new connection.</summary>
        Reconnecting = (int)NativeMethods.WSB_STATE_RECONNECTING,
    }

    /// <summary>What a received WsMessage holds.</summary>
    public enum WsMessageType
    {
        /// <summary>A UTF-8 text message (GetText() decodes it).</summary>
        Text = (int)NativeMethods.WSB_TEXT,
        /// <summary>A binary message.</summary>
        Binary = (int)NativeMethods.WSB_BINARY,
        /// <summary>
        /// Not a message: the connection has closed. Delivered exactly once, after every message
        /// received before the close; WsClient.CloseStatus and WsClient.CloseError say why.
        /// </summary>
        Close = 3,
        /// <summary>
        /// Not a message (WsOptions.Reconnect only): the link was lost and a new connection is
        /// open. Delivered once per new connection, before its messages (after those received
        /// before the loss); WsClient.LastReconnect says what happened. The trainer may not know
        /// this session: send what it needs first (a hello).
        /// </summary>
        Reconnected = 4,
    }

    /// <summary>What WsClient.Send did with a message. Only network events are results; programmer
    /// errors (null, invalid UTF-8, over MaxMessageSize, use after Dispose) throw.</summary>
    public enum WsSendResult
    {
        /// <summary>Queued: it will be sent, in order, unless the connection is lost meanwhile.</summary>
        Queued,
        /// <summary>The send queue is at WsOptions.SendQueueMaxBytes: the message was NOT queued
        /// (retrying later never duplicates it; WsClient.Flush waits for room).</summary>
        QueueFull,
        /// <summary>The connection has ended (lost, closed by the peer or by Close, shut down):
        /// the message was not queued. The Close message reaches the game through TryReceive/Receive.</summary>
        Closed,
    }

    /// <summary>What the lockstep WsClient.Receive(message, timeoutMs) found: a message and a close
    /// cannot be mistaken for each other.</summary>
    public enum WsReceiveResult
    {
        /// <summary>A message: message.Type is Text or Binary.</summary>
        Message,
        /// <summary>Nothing arrived within the timeout; the connection is fine.</summary>
        Timeout,
        /// <summary>The connection has ended (message.Type is Close; WsClient.CloseStatus and
        /// CloseError say why). Every later Receive returns Closed again.</summary>
        Closed,
        /// <summary>WebGL only: a browser cannot block the main thread, so a waiting Receive
        /// (timeoutMs other than 0) returns this at once. Poll with TryReceive from Update.</summary>
        NotSupported,
        /// <summary>WsOptions.Reconnect only: the link was lost and a new connection is open
        /// (message.Type is Reconnected; WsClient.LastReconnect says what happened). A reply the
        /// game waited for will not come: send again (what a new connection needs first).</summary>
        Reconnected,
    }

    /// <summary>The close code and reason the peer sent (1005: its close frame had no code;
    /// 1006: the connection ended without one).</summary>
    public struct WsCloseStatus
    {
        public WsCloseStatus(ushort code, string reason)
        {
            Code = code;
            Reason = reason ?? "";
        }

        public ushort Code { get; private set; }
        public string Reason { get; private set; }

        public override string ToString()
        {
            return Reason.Length == 0 ? Code.ToString() : Code + " " + Reason;
        }
    }

    /// <summary>Close codes of RFC 6455 that games use; any code from 3000 to 4999 is also allowed.</summary>
    public static class WsCloseCode
    {
        public const ushort Normal = 1000;
        public const ushort GoingAway = 1001;
        public const ushort ProtocolError = 1002;
        public const ushort Unsupported = 1003;
        public const ushort InvalidPayload = 1007;
        public const ushort PolicyViolation = 1008;
        public const ushort MessageTooBig = 1009;
        public const ushort InternalError = 1011;
    }
}
