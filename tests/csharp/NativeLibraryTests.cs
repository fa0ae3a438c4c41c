// Loading the native library: a missing library gives a message that says what was looked
// for, where it belongs, and for which platform.

using System;

namespace Wsbridge.Tests
{
    public static class NativeLibraryTests
    {
        // Run by test_unity_csharp.py from a folder without libwsbridge.so.
        [Case(Isolated = true)]
        public static void MissingLibraryIsExplained()
        {
            var e = Check.Throws<WsNativeLibraryException>(() => WsClient.Connect("ws://127.0.0.1:9/env/0"), "Connect without the library");
            Check.Contains("libwsbridge.so", e.Message, "names the file");
            Check.Contains("Linux X64", e.Message, "names the platform and architecture");
            Check.Contains("Plugins/runtimes/linux-x64/native/", e.Message, "says where it belongs in the package");
            Check.True(e.InnerException is DllNotFoundException, "inner exception: " + e.InnerException);
            Check.True(WsRuntime.Shutdown(0), "Shutdown never loads the library");
        }
    }
}
