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
        /// <summary>Closed by either side, failed, lost, disposed, or shut down.</summary>
        Closed = (int)NativeMethods.WSB_STATE_CLOSED,
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
