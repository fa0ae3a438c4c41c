// WebGL builds: the functions of the native library (NativeMethods.g.cs declares them for every
// other platform), with the same signatures, implemented over the browser's WebSocket by
// Plugins/WebGL/wsbridge.jslib. So WsClient, WsConnection and WsbridgeConnection are the same
// code in a browser; what a browser cannot do:
// - block: wsb_connect (WsClient.Connect) fails with WSB_INVALID_ARGUMENT and says to use
//   StartConnect; WsClient.Receive(message, timeoutMs) with a timeout returns
//   WsReceiveResult.NotSupported without waiting (WsClient.Receive.cs); wsb_recv and wsb_flush
//   only check (timeout 0); wsb_close and wsb_close_async return at once (the browser finishes
//   the handshake);
// - send custom headers (WsOptions.Headers: WSB_INVALID_ARGUMENT), choose TLS roots, a proxy,
//   ping intervals or queue caps: the browser decides (those options are ignored); reconnect
//   (WsOptions.Reconnect: WSB_INVALID_ARGUMENT; reconnect from the game after the Close message);
// - send close codes other than 1000 and 3000-4999 (1001 is sent as 1000; others:
//   WSB_INVALID_ARGUMENT); report why a connection failed (the browser hides it: WSB_CONNECT_FAILED).
// - run the env API (wsb_env_*: WsEnv, EnvDriver, WsbridgeAcademy): it is the native library's, so
//   every wsb_env_* function fails with a message that says so (train a desktop or headless build).
// Everything runs on the browser's main thread, polled from Update; nothing calls back into C#.
// Compiled for WebGL players only (UNITY_WEBGL && !UNITY_EDITOR); tests/webgl compiles it with
// Mono's mcs and runs wsbridge.jslib in headless Chromium.

#if UNITY_WEBGL && !UNITY_EDITOR
using System;
using System.Runtime.InteropServices;

namespace Wsbridge
{
    internal static unsafe partial class NativeMethods
    {
        // The private result numbers of wsbridge.jslib ($WSB there).
        private const int JsOk = 0, JsEmpty = 1, JsBufferTooSmall = 2, JsClosed = 3, JsLost = 4, JsConnectFailed = 5,
                          JsInvalidArgument = 6, JsInvalidHandle = 7, JsNotFlushed = 8, JsInvalidUtf8 = 9;
        private const uint JsText = 1, JsBinary = 2;

        [DllImport("__Internal")] private static extern int WsbJs_Connect(byte* url, byte* options, uint* outId);
        [DllImport("__Internal")] private static extern int WsbJs_State(int id, uint* outState);
        [DllImport("__Internal")] private static extern int WsbJs_Send(int id, byte* data, int length, uint kind);
        [DllImport("__Internal")] private static extern int WsbJs_Flush(int id);
        [DllImport("__Internal")] private static extern int WsbJs_Recv(int id, byte* buf, int cap, uint* outLength, uint* outKind);
        [DllImport("__Internal")] private static extern int WsbJs_CloseStatus(int id, uint* outCode, byte* buf, int cap, uint* outLength);
        [DllImport("__Internal")] private static extern int WsbJs_Subprotocol(int id, byte* buf, int cap, uint* outLength);
        [DllImport("__Internal")] private static extern int WsbJs_Close(int id, int code, byte* reason);
        [DllImport("__Internal")] private static extern int WsbJs_Shutdown();
        [DllImport("__Internal")] private static extern int WsbJs_LastError(byte* buf, int cap);

        private static string lastError = "";
        private static readonly IntPtr[] names = new IntPtr[64];
        private static IntPtr version;

        // The library's code for a result of wsbridge.jslib; on a failure, keeps its message.
        private static uint Result(int js)
        {
            switch (js)
            {
                case JsOk: return WSB_OK;
                case JsEmpty: return Fail(WSB_TIMEOUT, "wsbridge: no message waiting");
                case JsNotFlushed: return Fail(WSB_TIMEOUT, "wsbridge: messages are still buffered by the browser");
                case JsBufferTooSmall: return Fail(WSB_BUFFER_TOO_SMALL, "wsbridge: the buffer is too small for the next message");
                default: break;
            }
            int size = WsbJs_LastError(null, 0) + 1;
            var bytes = new byte[size];
            fixed (byte* p = bytes) WsbJs_LastError(p, size);
            lastError = Utf8.Decode(bytes, 0, size - 1);
            switch (js)
            {
                case JsClosed: return WSB_CLOSED;
                case JsLost: return WSB_CONNECTION_LOST;
                case JsConnectFailed: return WSB_CONNECT_FAILED;
                case JsInvalidArgument: return WSB_INVALID_ARGUMENT;
                case JsInvalidHandle: return WSB_INVALID_HANDLE;
                case JsInvalidUtf8: return WSB_INVALID_UTF8;
                default: return Fail(WSB_INTERNAL, "wsbridge.jslib returned " + js + ": it does not match this package");
            }
        }

        private static uint Fail(uint result, string message)
        {
            lastError = message;
            return result;
        }

        private static int Id(ulong h)
        {
            return h > int.MaxValue ? 0 : (int)h;
        }

        internal static uint wsb_connect(byte* url, byte* options_json, ulong* @out)
        {
            return Fail(WSB_INVALID_ARGUMENT, "wsbridge: " + Utf8.FromNative(url) + ": a WebGL build cannot wait for a " +
                        "connection (the browser's main thread must not block): use WsClient.StartConnect, " +
                        "WsConnection.ConnectAsync or the WsbridgeConnection component");
        }

        internal static uint wsb_connect_async(byte* url, byte* options_json, ulong* @out)
        {
            if (url == null || @out == null) return Fail(WSB_INVALID_ARGUMENT, "wsbridge: url and out must not be NULL");
            uint id;
            uint result = Result(WsbJs_Connect(url, options_json, &id));
            if (result == WSB_OK) *@out = id;
            return result;
        }

        internal static uint wsb_state(ulong h, uint* out_state)
        {
            uint state;
            uint result = Result(WsbJs_State(Id(h), &state));
            if (result != WSB_OK) return result;
            // The browser's readyState: 0 connecting, 1 open, 2 closing, 3 closed.
            *out_state = state == 0 ? WSB_STATE_CONNECTING : state == 1 ? WSB_STATE_OPEN : state == 2 ? WSB_STATE_CLOSING : WSB_STATE_CLOSED;
            return WSB_OK;
        }

        internal static uint wsb_send(ulong h, byte* data, UIntPtr len, uint kind)
        {
            if (kind != WSB_TEXT && kind != WSB_BINARY) return Fail(WSB_INVALID_ARGUMENT, "wsbridge: kind " + kind + " is neither WSB_TEXT nor WSB_BINARY");
            if (data == null && (ulong)len != 0) return Fail(WSB_INVALID_ARGUMENT, "wsbridge: data is NULL");
            return Result(WsbJs_Send(Id(h), data, (int)(ulong)len, kind == WSB_TEXT ? JsText : JsBinary));
        }

        internal static uint wsb_flush(ulong h, int timeout_ms)
        {
            return Result(WsbJs_Flush(Id(h))); // checks only: a browser cannot wait
        }

        internal static uint wsb_recv(ulong h, byte* buf, UIntPtr cap, UIntPtr* out_len, uint* out_kind, int timeout_ms)
        {
            uint length, kind;
            uint result = Result(WsbJs_Recv(Id(h), buf, (int)(ulong)cap, &length, &kind));
            if (result == WSB_OK || result == WSB_BUFFER_TOO_SMALL) *out_len = (UIntPtr)length;
            if (result == WSB_OK) *out_kind = kind == JsText ? WSB_TEXT : WSB_BINARY;
            return result;
        }

        internal static uint wsb_close_status(ulong h, ushort* out_code, byte* reason, UIntPtr reason_cap, UIntPtr* out_reason_len)
        {
            uint code, length;
            uint result = Result(WsbJs_CloseStatus(Id(h), &code, reason, (int)(ulong)reason_cap, &length));
            if (result != WSB_OK) return result;
            *out_code = (ushort)code;
            if (out_reason_len != null) *out_reason_len = (UIntPtr)length;
            return WSB_OK;
        }

        internal static uint wsb_subprotocol(ulong h, byte* buf, UIntPtr cap, UIntPtr* out_len)
        {
            uint length;
            uint result = Result(WsbJs_Subprotocol(Id(h), buf, (int)(ulong)cap, &length));
            if (result == WSB_OK) *out_len = (UIntPtr)length;
            return result;
        }

        internal static uint wsb_close(ulong h, ushort code, byte* reason, int timeout_ms)
        {
            return Result(WsbJs_Close(Id(h), code, reason)); // the browser completes the handshake in the background
        }

        internal static uint wsb_close_async(ulong h, ushort code, byte* reason, int timeout_ms)
        {
            return wsb_close(h, code, reason, timeout_ms); // never blocks in a browser either
        }

        internal static UIntPtr wsb_last_error(byte* buf, UIntPtr cap)
        {
            int size;
            byte[] bytes = Utf8.Encode(lastError, out size);
            int n = Math.Min(size, (int)(ulong)cap - 1);
            if (buf != null && n >= 0)
            {
                for (int i = 0; i < n; i++) buf[i] = bytes[i];
                buf[n] = 0;
            }
            return (UIntPtr)(uint)size;
        }

        internal static byte* wsb_result_name(uint result)
        {
            if (result >= names.Length) return wsb_result_name(WSB_INTERNAL);
            if (names[result] == IntPtr.Zero)
            {
                // WsResult.ConnectFailed -> "WSB_CONNECT_FAILED", as the library names it.
                string name = Enum.IsDefined(typeof(WsResult), result) ? ((WsResult)result).ToString() : "Unknown";
                var snake = new System.Text.StringBuilder("WSB");
                foreach (char c in name)
                {
                    if (char.IsUpper(c)) snake.Append('_');
                    snake.Append(char.ToUpperInvariant(c));
                }
                names[result] = Marshal.StringToHGlobalAnsi(snake.ToString());
            }
            return (byte*)names[result];
        }

        // The env API (wsb_env_*: WsEnv, EnvDriver, WsbridgeAcademy) is the native library's own
        // implementation of the protocol, and a WebGL build has no native library: every entry
        // point fails with this message, wsb_env_open with WSB_INVALID_ARGUMENT (so WsEnv.Open
        // throws a WsException that says it), the others with WSB_INVALID_HANDLE (no env can exist).
        private const string NoEnv = "wsbridge: the env API (WsEnv, EnvDriver, WsbridgeAcademy) is not available in WebGL " +
                                     "builds: it runs in the native library, which a browser cannot load. Train a desktop " +
                                     "(Windows, macOS, Linux) or headless build of the game; WsClient and WsConnection work in WebGL";

        internal static uint wsb_env_open(byte* url, byte* spec_json, byte* options_json, ulong* @out)
        {
            return Fail(WSB_INVALID_ARGUMENT, NoEnv);
        }

        internal static uint wsb_env_next(ulong env, int timeout_ms, wsb_env_event* out_event)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_env_agent_reset(ulong env, uint agent, byte* out_reset, long* out_seed)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_env_reset_options(ulong env, byte* buf, UIntPtr cap, UIntPtr* out_len)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_env_settings(ulong env, byte* buf, UIntPtr cap, UIntPtr* out_len)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_env_url(ulong env, byte* buf, UIntPtr cap, UIntPtr* out_len)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_env_observation_part(ulong env, byte* path, uint* out_index, UIntPtr* out_bytes)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_env_set_observation_part(ulong env, uint agent, uint part, byte* data, UIntPtr len)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_env_action(ulong env, uint agent, byte* buf, UIntPtr cap, UIntPtr* out_len)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_env_set_observation(ulong env, uint agent, byte* data, UIntPtr len)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_env_set_reward(ulong env, uint agent, double reward)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_env_add_reward(ulong env, uint agent, double reward)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_env_set_done(ulong env, uint agent, byte terminated, byte truncated)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_env_set_info(ulong env, uint agent, byte* json)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_env_submit(ulong env)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_env_layout(ulong env, uint* out_agents, UIntPtr* out_observation_bytes, UIntPtr* out_action_bytes)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_env_close_status(ulong env, ushort* out_code, byte* reason, UIntPtr reason_cap, UIntPtr* out_reason_len)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_env_close(ulong env)
        {
            return Fail(WSB_INVALID_HANDLE, NoEnv);
        }

        internal static uint wsb_shutdown(int timeout_ms)
        {
            return Result(WsbJs_Shutdown());
        }

        internal static byte* wsb_version()
        {
            if (version == IntPtr.Zero)
                version = Marshal.StringToHGlobalAnsi(WSB_VERSION_MAJOR + "." + WSB_VERSION_MINOR + "." + WSB_VERSION_PATCH);
            return (byte*)version;
        }
    }
}
#endif
