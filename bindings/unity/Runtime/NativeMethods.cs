// The C ABI of wsbridge, mirrored one to one from include/wsbridge.h (the reference for every
// function, argument and result code). Kept deliberately low-level:
// - blittable types only (integers and pointers), so no marshaling code runs and IL2CPP
//   generates direct calls; strings cross as NUL-terminated UTF-8 bytes encoded by hand (Utf8);
// - no delegates and no callbacks from native threads: the library is polled;
// - the same names and parameter types as the header (tests/csharp/test_unity_layout.py checks it).
//
// size_t is UIntPtr, wsb_handle is ulong, wsb_result is uint.

using System;
using System.Runtime.InteropServices;

namespace Wsbridge
{
    internal static unsafe class NativeMethods
    {
#if UNITY_IOS && !UNITY_EDITOR
        // iOS links the static library into the app: its symbols live in the main program.
        internal const string Library = "__Internal";
#else
        // libwsbridge.so (Linux, Android), wsbridge.dll (Windows), libwsbridge.dylib (macOS).
        internal const string Library = "wsbridge";
#endif

        // Version of the header this file mirrors.
        internal const int WSB_VERSION_MAJOR = 0;
        internal const int WSB_VERSION_MINOR = 1;
        internal const int WSB_VERSION_PATCH = 0;

        // Message kinds.
        internal const uint WSB_TEXT = 1;
        internal const uint WSB_BINARY = 2;

        // Connection states.
        internal const uint WSB_STATE_CONNECTING = 0;
        internal const uint WSB_STATE_OPEN = 1;
        internal const uint WSB_STATE_CLOSING = 2;
        internal const uint WSB_STATE_CLOSED = 3;

        // Result codes.
        internal const uint WSB_OK = 0;
        internal const uint WSB_TIMEOUT = 1;
        internal const uint WSB_BUFFER_TOO_SMALL = 2;
        internal const uint WSB_WOULD_BLOCK = 3;
        internal const uint WSB_CLOSED = 4;
        internal const uint WSB_INVALID_ARGUMENT = 5;
        internal const uint WSB_INVALID_HANDLE = 6;
        internal const uint WSB_INVALID_UTF8 = 7;
        internal const uint WSB_MESSAGE_TOO_BIG = 8;
        internal const uint WSB_CONNECT_FAILED = 9;
        internal const uint WSB_HANDSHAKE_FAILED = 10;
        internal const uint WSB_CONNECTION_LOST = 11;
        internal const uint WSB_PROTOCOL_ERROR = 12;
        internal const uint WSB_INTERNAL = 13;
        internal const uint WSB_TLS_FAILED = 14;

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint wsb_connect(byte* url, byte* options_json, ulong* @out);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint wsb_connect_async(byte* url, byte* options_json, ulong* @out);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint wsb_state(ulong h, uint* out_state);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint wsb_send(ulong h, byte* data, UIntPtr len, uint kind);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint wsb_flush(ulong h, int timeout_ms);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint wsb_recv(ulong h, byte* buf, UIntPtr cap, UIntPtr* out_len, uint* out_kind, int timeout_ms);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint wsb_close_status(ulong h, ushort* out_code, byte* reason, UIntPtr reason_cap, UIntPtr* out_reason_len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint wsb_subprotocol(ulong h, byte* buf, UIntPtr cap, UIntPtr* out_len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint wsb_close(ulong h, ushort code, byte* reason, int timeout_ms);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern UIntPtr wsb_last_error(byte* buf, UIntPtr cap);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern byte* wsb_result_name(uint result);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint wsb_shutdown(int timeout_ms);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern byte* wsb_version();
    }
}
