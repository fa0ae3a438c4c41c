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
        /// with Type Close when the connection has ended (then see CloseStatus and CloseError).
        /// Returns false when nothing is waiting, and from then on once the close was delivered.
        /// Reusing the same WsMessage allocates nothing per message.
        /// </summary>
        public bool TryReceive(WsMessage message)
        {
            return Receive(message, 0, false);
        }

        /// <summary>
        /// Waits up to timeoutMs (-1: no limit) for the next message; true with a message (or the
        /// Close message, once), false if none arrived in time. Throws WsException (Closed) when
        /// called after the Close message was delivered or after Close().
        /// </summary>
        public bool Receive(WsMessage message, int timeoutMs)
        {
            if (timeoutMs < -1) throw new ArgumentOutOfRangeException("timeoutMs", timeoutMs, "use -1 (no limit), 0 or a positive number of milliseconds");
            return Receive(message, timeoutMs, true);
        }

        /// <summary>Like Receive(message, timeoutMs) with a new WsMessage; null if none arrived in time.</summary>
        public WsMessage Receive(int timeoutMs)
        {
            var message = new WsMessage(0);
            return Receive(message, timeoutMs) ? message : null;
        }

        private bool Receive(WsMessage message, int timeoutMs, bool blocking)
        {
            if (message == null) throw new ArgumentNullException("message");
            ThrowIfDisposed();
            ulong h = native.Handle;
            if (h == 0 || closeReported)
            {
                if (blocking) throw ClosedHere();
                return false;
            }
            uint result = ReceiveInto(h, message, timeoutMs);
            switch (result)
            {
                case NativeMethods.WSB_OK:
                    return true;
                case NativeMethods.WSB_TIMEOUT:
                    return false; // no message yet (a failed connect is never reported as a timeout)
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
                    if (blocking) throw ClosedHere();
                    return false; // closed by Close() on another thread
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
        private bool ReportClose(ulong h, WsMessage message, WsException error)
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
                if (closeReported) return false;
                closeStatus = status;
                closeError = error;
                closeReported = true;
            }
            message.Set(WsMessageType.Close, 0);
            return true;
        }
    }
}
