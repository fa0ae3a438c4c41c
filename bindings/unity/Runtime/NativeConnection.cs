// The lifetime guard of one native connection handle, in the manner of a SafeHandle: the handle
// is released exactly once, by Close/Dispose or, if the owner forgot, by the finalizer.
//
// Why not SafeHandle itself: wsb_handle is a 64-bit integer and SafeHandle stores an IntPtr
// (32 bits in a 32-bit player). Nor is SafeHandle's reference counting needed: handles are
// generation-checked by the library, so a call racing with the release gets WSB_INVALID_HANDLE
// (or WSB_CLOSED), never a crash or another connection.

using System.Runtime.ConstrainedExecution;
using System.Threading;

namespace Wsbridge
{
    internal sealed class NativeConnection : CriticalFinalizerObject
    {
        private static readonly byte[] FinalizedReason = Utf8.NullTerminated("WsClient finalized without Dispose");

        private long handle;

        internal NativeConnection(ulong handle)
        {
            this.handle = (long)handle;
        }

        // The handle, or 0 once released.
        internal ulong Handle
        {
            get { return (ulong)Interlocked.Read(ref handle); }
        }

        // Takes the handle for releasing it; returns 0 if it was already taken.
        internal ulong Take()
        {
            ulong taken = (ulong)Interlocked.Exchange(ref handle, 0);
            if (taken != 0) System.GC.SuppressFinalize(this);
            return taken;
        }

        // A forgotten Dispose: close with 1001 "going away" without waiting (the finalizer thread
        // must not block): the handshake finishes in the background (wsb_close_async).
        ~NativeConnection()
        {
            ulong h = (ulong)Interlocked.Exchange(ref handle, 0);
            if (h != 0) ReleaseAsync(h, WsCloseCode.GoingAway, FinalizedReason, 1000);
        }

        internal static unsafe uint Release(ulong h, ushort code, byte[] reason, int timeoutMs)
        {
            fixed (byte* r = reason)
            {
                return NativeMethods.wsb_close(h, code, r, timeoutMs);
            }
        }

        // wsb_close_async: returns at once; the library finishes the close in the background.
        internal static unsafe uint ReleaseAsync(ulong h, ushort code, byte[] reason, int timeoutMs)
        {
            fixed (byte* r = reason)
            {
                return NativeMethods.wsb_close_async(h, code, r, timeoutMs);
            }
        }
    }
}
