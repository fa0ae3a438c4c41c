// Every failure of the library surfaces as a WsException with the result code and the text of
// wsb_last_error, read on the failing thread right after the failing call.

using System;

namespace Wsbridge
{
    public class WsException : Exception
    {
        public WsException(WsResult result, string message) : base(message)
        {
            Result = result;
        }

        public WsException(WsResult result, string message, Exception inner) : base(message, inner)
        {
            Result = result;
        }

        /// <summary>What kind of failure this is (WSB_* code of the C ABI).</summary>
        public WsResult Result { get; private set; }

        // Builds the exception for a result just returned by a native call on this thread:
        // "WSB_HANDSHAKE_FAILED: ws://127.0.0.1:8001/nope refused the WebSocket upgrade with HTTP 404 ...".
        internal static unsafe WsException FromNative(uint result)
        {
            string name = Utf8.FromNative(NativeMethods.wsb_result_name(result));
            return new WsException((WsResult)result, name + ": " + LastError());
        }

        // The calling thread's last error message (wsb_last_error), read in full.
        internal static unsafe string LastError()
        {
            int size = (int)(ulong)NativeMethods.wsb_last_error(null, UIntPtr.Zero) + 1;
            var buffer = new byte[size];
            fixed (byte* p = buffer)
            {
                int n = (int)(ulong)NativeMethods.wsb_last_error(p, (UIntPtr)(ulong)size);
                return Utf8.Decode(buffer, 0, Math.Min(n, size - 1));
            }
        }
    }

    /// <summary>
    /// The native library could not be loaded, or it is not the version this package was built
    /// for. The message says which file was looked for, for which platform and architecture;
    /// InnerException is the runtime's own DllNotFoundException or EntryPointNotFoundException.
    /// </summary>
    public sealed class WsNativeLibraryException : WsException
    {
        public WsNativeLibraryException(string message, Exception inner) : base(WsResult.Internal, message, inner)
        {
        }
    }
}
