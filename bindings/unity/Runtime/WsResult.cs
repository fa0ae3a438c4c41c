// The result codes of the C ABI (WSB_* in include/wsbridge.h), as an enum. Carried by
// WsException.Result so that code can react to the kind of failure without parsing messages.

namespace Wsbridge
{
    public enum WsResult : uint
    {
        /// <summary>Success (never carried by an exception).</summary>
        Ok = NativeMethods.WSB_OK,
        /// <summary>Nothing happened in time: a connect timeout, a close handshake that did not finish.</summary>
        Timeout = NativeMethods.WSB_TIMEOUT,
        /// <summary>A receive buffer was too small (handled inside WsClient; never thrown).</summary>
        BufferTooSmall = NativeMethods.WSB_BUFFER_TOO_SMALL,
        /// <summary>The send queue is full; the message was not queued (see WsClient.TrySend).</summary>
        WouldBlock = NativeMethods.WSB_WOULD_BLOCK,
        /// <summary>The connection is closed; the message says by whom.</summary>
        Closed = NativeMethods.WSB_CLOSED,
        /// <summary>A malformed URL, option, close code or reason; the message names it.</summary>
        InvalidArgument = NativeMethods.WSB_INVALID_ARGUMENT,
        /// <summary>The native handle is no longer valid.</summary>
        InvalidHandle = NativeMethods.WSB_INVALID_HANDLE,
        /// <summary>A text message that is not valid UTF-8.</summary>
        InvalidUtf8 = NativeMethods.WSB_INVALID_UTF8,
        /// <summary>A message over the max_message_size option, in either direction.</summary>
        MessageTooBig = NativeMethods.WSB_MESSAGE_TOO_BIG,
        /// <summary>DNS or TCP failed; the message has the OS reason.</summary>
        ConnectFailed = NativeMethods.WSB_CONNECT_FAILED,
        /// <summary>The server refused the upgrade; the message has the HTTP status (404 for an unrouted path).</summary>
        HandshakeFailed = NativeMethods.WSB_HANDSHAKE_FAILED,
        /// <summary>The connection broke without a close handshake, or the peer stopped answering pings.</summary>
        ConnectionLost = NativeMethods.WSB_CONNECTION_LOST,
        /// <summary>The peer violated the WebSocket protocol.</summary>
        ProtocolError = NativeMethods.WSB_PROTOCOL_ERROR,
        /// <summary>A bug in wsbridge; the message says where.</summary>
        Internal = NativeMethods.WSB_INTERNAL,
        /// <summary>The TLS handshake of a wss:// connection failed: unknown CA, wrong host name, expired certificate ...</summary>
        TlsFailed = NativeMethods.WSB_TLS_FAILED,
    }
}
