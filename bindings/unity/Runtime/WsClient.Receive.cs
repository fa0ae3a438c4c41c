// WsClient, receiving: polling (TryReceive), waiting (Receive), the reusable buffer, and the
// single Close message that reports how the connection ended.

using System;

namespace Wsbridge
{
    public sealed unsafe partial class WsClient
    {
        /// <summary>
        /// Takes the next message into `message` if one is waiting, without blocking: call it in a
        /// loop from Update until it returns false. Returns true with Type Text or Binary, or, once,
        /// with Type Close when the connection has ended (then see CloseStatus and CloseError), or
        /// (WsOptions.Reconnect) with Type Reconnected once per new connection.
        /// Returns false when nothing is waiting, and from then on once the close was delivered
        /// (or after Close()). Reusing the same WsMessage allocates nothing per message. Never
        /// throws for a network event.
        /// </summary>
        public bool TryReceive(WsMessage message)
        {
            Got got = Take(message, 0);
            return got == Got.Message || got == Got.Close || got == Got.Reconnected;
        }

        /// <summary>
        /// Lockstep: waits up to timeoutMs (-1: no limit) for the next message. Returns Message
        /// (Type Text or Binary), Timeout (nothing arrived in time; the connection is fine), or
        /// Closed (the connection has ended, or Close() was called: message.Type is Close, see
        /// CloseStatus and CloseError; every later call returns Closed again). Never throws for a
        /// network event. In a WebGL build, where nothing can block, a timeoutMs other than 0
        /// returns NotSupported without waiting: poll with TryReceive from Update instead.
        /// </summary>
        public WsReceiveResult Receive(WsMessage message, int timeoutMs)
        {
            if (message == null) throw new ArgumentNullException("message");
            if (timeoutMs < -1) throw new ArgumentOutOfRangeException("timeoutMs", timeoutMs, "use -1 (no limit), 0 or a positive number of milliseconds");
#if UNITY_WEBGL && !UNITY_EDITOR
            if (timeoutMs != 0)
            {
                ThrowIfDisposed();
                return WsReceiveResult.NotSupported;
            }
#endif
            switch (Take(message, timeoutMs))
            {
                case Got.Message:
                    return WsReceiveResult.Message;
                case Got.Nothing:
                    return WsReceiveResult.Timeout;
                case Got.Reconnected:
                    return WsReceiveResult.Reconnected;
                case Got.Ended:
                    message.Set(WsMessageType.Close, 0);
                    return WsReceiveResult.Closed;
                default:
                    return WsReceiveResult.Closed;
            }
        }

        private enum Got
        {
            Nothing, // no message in time
            Message,
            Close,   // the Close message, delivered now
            Ended,   // the close was delivered before, or Close()/CloseAsync() was called here
            Reconnected, // WsOptions.Reconnect: a new connection is open (message.Type is Reconnected)
        }

        private Got Take(WsMessage message, int timeoutMs)
        {
            if (message == null) throw new ArgumentNullException("message");
            ThrowIfDisposed();
            ulong h = native.Handle;
            if (h == 0 || closeReported) return Got.Ended;
            uint result = ReceiveInto(h, message, timeoutMs);
            switch (result)
            {
                case NativeMethods.WSB_OK:
                    return Got.Message;
                case NativeMethods.WSB_TIMEOUT:
                    return Got.Nothing; // no message yet (a failed connect is never reported as a timeout)
                case NativeMethods.WSB_RECONNECTED:
                    lastReconnect = WsException.LastError();
                    message.Set(WsMessageType.Reconnected, 0);
                    return Got.Reconnected;
                case NativeMethods.WSB_CLOSED:
                    return ReportClose(h, message, null);
                case NativeMethods.WSB_CONNECTION_LOST:
                case NativeMethods.WSB_PROTOCOL_ERROR:
                case NativeMethods.WSB_MESSAGE_TOO_BIG:
                case NativeMethods.WSB_CONNECT_FAILED:
                case NativeMethods.WSB_TLS_FAILED:
                case NativeMethods.WSB_HANDSHAKE_FAILED:
                    return ReportClose(h, message, WsException.FromNative(result));
                case NativeMethods.WSB_INVALID_HANDLE:
                    ThrowIfDisposed();
                    if (ShutDown()) return ReportClose(0, message, ClosedHere());
                    return Got.Ended; // closed by Close() or CloseAsync() on another thread
                default:
                    throw WsException.FromNative(result);
            }
        }

        // One message into `message`, growing its buffer when the library says it is too small
        // (the message stays queued, so the retry returns it at once).
        private uint ReceiveInto(ulong h, WsMessage message, int timeoutMs)
        {
            while (true)
            {
                byte[] buffer = message.Buffer;
                UIntPtr length;
                uint kind;
                uint result;
                fixed (byte* p = buffer)
                {
                    result = NativeMethods.wsb_recv(h, p, (UIntPtr)(uint)buffer.Length, &length, &kind, timeoutMs);
                }
                GC.KeepAlive(native);
                if (result == NativeMethods.WSB_OK)
                {
                    message.Set((WsMessageType)kind, (int)(ulong)length);
                    return result;
                }
                if (result != NativeMethods.WSB_BUFFER_TOO_SMALL) return result;
                message.Reserve((int)(ulong)length);
            }
        }

        // Delivers the Close message once: records the peer's close status (if the handle is still
        // there to ask) and the error that ended the connection.
        private Got ReportClose(ulong h, WsMessage message, WsException error)
        {
            WsCloseStatus? status = null;
            if (h != 0)
            {
                byte* reason = stackalloc byte[256];
                ushort code;
                UIntPtr length;
                if (NativeMethods.wsb_close_status(h, &code, reason, (UIntPtr)256u, &length) == NativeMethods.WSB_OK)
                    status = new WsCloseStatus(code, Utf8.FromNative(reason, Math.Min((int)(ulong)length, 255)));
                GC.KeepAlive(native);
            }
            lock (gate)
            {
                if (closeReported) return Got.Ended;
                closeStatus = status;
                closeError = error;
                closeReported = true;
            }
            message.Set(WsMessageType.Close, 0);
            return Got.Close;
        }
    }
}
