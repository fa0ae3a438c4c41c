// Process-wide operations: loading and checking the native library, its version, and
// shutting down every connection and background thread (wsb_shutdown) before the library's
// host goes away: an editor assembly reload, leaving play mode, Application.quitting.
// In Unity the package calls Shutdown itself at those moments (UnityLifecycle.cs).

using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Wsbridge
{
    public static class WsRuntime
    {
        /// <summary>The version of the C header this package was written against.</summary>
        public static readonly string BindingVersion =
            NativeMethods.WSB_VERSION_MAJOR + "." + NativeMethods.WSB_VERSION_MINOR + "." + NativeMethods.WSB_VERSION_PATCH;

        private static int shutdowns;
        private static volatile string loadedVersion;

        /// <summary>
        /// The close timeout, in milliseconds, of the automatic Shutdown that the package runs in
        /// Unity before an assembly reload, when leaving play mode and on Application.quitting.
        /// </summary>
        public static int AutoShutdownTimeoutMs = 500;

        /// <summary>The version of the loaded native library, e.g. "0.1.0".</summary>
        public static string Version
        {
            get
            {
                EnsureLoaded();
                return loadedVersion;
            }
        }

        /// <summary>
        /// Closes every open connection (close code 1001, "going away") and stops the library's
        /// background threads, for a host that is about to unload managed code. Afterwards every
        /// WsClient is Closed (its next TryReceive reports the close once); new connections may
        /// be opened again. Harmless when nothing is open.
        /// </summary>
        /// <param name="timeoutMs">Time all close handshakes may take together; 0 drops the connections at once, -1 waits without limit.</param>
        /// <returns>true if every close handshake completed in time; false if some connections were dropped.</returns>
        /// <exception cref="WsException">Result LookupRunning: a DNS lookup still blocks wsbridge's DNS thread (getaddrinfo has no timeout), so the native library is not yet safe to unload; it exits by itself when the lookup returns, and a later Shutdown waits for it again.</exception>
        public static bool Shutdown(int timeoutMs)
        {
            if (timeoutMs < -1) throw new ArgumentOutOfRangeException("timeoutMs", timeoutMs, "use -1 (no limit), 0 or a positive number of milliseconds");
            if (loadedVersion == null) return true; // never loaded: nothing can be open
            Interlocked.Increment(ref shutdowns);
            uint result = NativeMethods.wsb_shutdown(timeoutMs);
            if (result == NativeMethods.WSB_TIMEOUT) return false;
            if (result != NativeMethods.WSB_OK) throw WsException.FromNative(result);
            return true;
        }

        // Incremented by every Shutdown: a client created before the current value was closed by it.
        internal static int ShutdownCount
        {
            get { return Volatile.Read(ref shutdowns); }
        }

        // Loads the library on first use, with a message that says what was looked for when it
        // is missing, and checks that it is the version this package mirrors.
        internal static unsafe void EnsureLoaded()
        {
            if (loadedVersion != null) return;
            string version;
            try
            {
                version = Utf8.FromNative(NativeMethods.wsb_version());
            }
            catch (DllNotFoundException e)
            {
                throw new WsNativeLibraryException(MissingLibraryMessage("was not found"), e);
            }
            catch (EntryPointNotFoundException e)
            {
                throw new WsNativeLibraryException(MissingLibraryMessage("does not export wsb_version: it is not wsbridge or is too old"), e);
            }
            string[] parts = version.Split('.');
            string expected = NativeMethods.WSB_VERSION_MAJOR + "." + NativeMethods.WSB_VERSION_MINOR;
            if (parts.Length < 2 || parts[0] + "." + parts[1] != expected)
            {
                throw new WsNativeLibraryException(
                    "the native library wsbridge is version " + version + " but this package (com.wsbridge.unity " +
                    BindingVersion + ") needs " + expected + ".x: rebuild the native libraries from the same wsbridge release",
                    null);
            }
            loadedVersion = version;
        }

        private static string MissingLibraryMessage(string what)
        {
            string os, file, folder;
            Architecture arch = RuntimeInformation.ProcessArchitecture;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                os = "Windows"; file = "wsbridge.dll"; folder = "win-x64";
            }
            else if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX))
            {
                os = "macOS"; file = "libwsbridge.dylib"; folder = "osx";
            }
            else
            {
                os = "Linux"; file = "libwsbridge.so"; folder = "linux-x64";
            }
#if UNITY_ANDROID && !UNITY_EDITOR
            os = "Android"; file = "libwsbridge.so"; folder = "android-arm64";
#elif UNITY_IOS && !UNITY_EDITOR
            os = "iOS"; file = "libwsbridge.a (linked statically, DllImport \"__Internal\")"; folder = "ios-arm64";
#endif
            return "wsbridge: the native library " + file + " for " + os + " " + arch + " (" + (IntPtr.Size * 8) +
                   "-bit process) " + what + ". In Unity it belongs in Packages/com.wsbridge.unity/Plugins/runtimes/" +
                   folder + "/native/ with the import settings of the .meta file there; outside Unity, next to the " +
                   "program or on the library search path. Build it with cargo as the package README says.";
        }
    }
}
