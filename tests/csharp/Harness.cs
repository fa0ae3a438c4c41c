// A minimal test runner for the C# binding under Mono (no test framework to install).
//
//     mono WsbridgeTests.exe --list      names of the cases run by tests/csharp/test_unity_csharp.py
//     mono WsbridgeTests.exe CASE        runs one case; exit 0 = passed
//
// A case is a public static method marked [Case] in a class of this assembly, named
// "Class.Method" without the "Tests" suffix. Cases marked Isolated are not listed: the pytest
// runner starts them itself in a special environment. Servers are started by the runner and
// passed in WSB_ECHO_PORT (tests/servers/wsserver.py, 64 MiB max size), WSB_TLS_PORT (tests/network/
// trainer.py over TLS), WSB_TLS_CA and WSB_OTHER_CA (PEM files of tests/network/pki.py),
// WSB_MISBEHAVE_PORT (tests/servers/misbehave.py).

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Wsbridge.Tests
{
    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class CaseAttribute : Attribute
    {
        public bool Isolated { get; set; }
    }

    internal static class Program
    {
        private static int Main(string[] args)
        {
            var cases = Discover();
            if (args.Length == 1 && args[0] == "--list")
            {
                foreach (var c in cases.Where(c => !c.Value.GetCustomAttribute<CaseAttribute>().Isolated))
                    Console.WriteLine(c.Key);
                return 0;
            }
            MethodInfo method;
            if (args.Length != 1 || !cases.TryGetValue(args[0], out method))
            {
                Console.Error.WriteLine("usage: WsbridgeTests.exe --list | CASE (one of: " + string.Join(" ", cases.Keys) + ")");
                return 2;
            }
            try
            {
                method.Invoke(null, null);
            }
            catch (TargetInvocationException e)
            {
                Console.Error.WriteLine(args[0] + " FAILED: " + e.InnerException);
                return 1;
            }
            Console.WriteLine(args[0] + " passed");
            return 0;
        }

        private static SortedDictionary<string, MethodInfo> Discover()
        {
            var found = new SortedDictionary<string, MethodInfo>(StringComparer.Ordinal);
            foreach (var type in typeof(Program).Assembly.GetTypes())
                foreach (var m in type.GetMethods(BindingFlags.Public | BindingFlags.Static))
                    if (m.GetCustomAttribute<CaseAttribute>() != null)
                        found.Add(type.Name.Replace("Tests", "") + "." + m.Name, m);
            return found;
        }
    }

    internal sealed class TestFailure : Exception
    {
        public TestFailure(string message) : base(message)
        {
        }
    }

    internal static class Check
    {
        public static void True(bool condition, string what)
        {
            if (!condition) throw new TestFailure(what);
        }

        public static void False(bool condition, string what)
        {
            if (condition) throw new TestFailure(what);
        }

        public static void Equal<T>(T expected, T actual, string what)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
                throw new TestFailure(what + ": expected <" + expected + "> but got <" + actual + ">");
        }

        public static void Contains(string expected, string actual, string what)
        {
            if (actual == null || !actual.Contains(expected))
                throw new TestFailure(what + ": expected to contain <" + expected + "> but got <" + actual + ">");
        }

        public static void Bytes(byte[] expected, int offset, int count, WsMessage actual, string what)
        {
            if (actual.Count != count) throw new TestFailure(what + ": length " + actual.Count + ", expected " + count);
            for (int i = 0; i < count; i++)
                if (actual.Buffer[i] != expected[offset + i])
                    throw new TestFailure(what + ": byte " + i + " is " + actual.Buffer[i] + ", expected " + expected[offset + i]);
        }

        public static T Throws<T>(Action action, string what) where T : Exception
        {
            try
            {
                action();
            }
            catch (T e)
            {
                return e;
            }
            catch (Exception e)
            {
                throw new TestFailure(what + ": expected " + typeof(T).Name + " but got " + e);
            }
            throw new TestFailure(what + ": expected " + typeof(T).Name + " but nothing was thrown");
        }

        public static WsException Fails(WsResult result, Action action, string what)
        {
            var e = Throws<WsException>(action, what);
            if (e.Result != result) throw new TestFailure(what + ": expected " + result + " but got " + e.Result + ": " + e.Message);
            return e;
        }
    }

    // The servers started by the runner, and helpers to talk to them.
    internal static class Server
    {
        // Generous bound for anything that must arrive; a liveness guard, not a timing assertion.
        public const int Patience = 15000;

        public static string Url(string path)
        {
            return "ws://127.0.0.1:" + Env("WSB_ECHO_PORT") + path;
        }

        // A setting from the runner (ports of the servers it started, paths of test files).
        public static string Env(string name)
        {
            string value = Environment.GetEnvironmentVariable(name);
            if (value == null) throw new TestFailure(name + " is not set: run the cases through tests/csharp/test_unity_csharp.py (make test)");
            return value;
        }

        public static string NewId()
        {
            return Guid.NewGuid().ToString("N");
        }

        // Waits for the next message that is not Close.
        public static WsMessage Next(WsClient client, WsMessage message)
        {
            Check.Equal(WsReceiveResult.Message, client.Receive(message, Patience), "Receive from " + client.Url + " (Patience " + Patience + " ms)");
            return message;
        }

        // Receives until the Close message, returning the text messages seen before it.
        public static List<string> UntilClose(WsClient client)
        {
            var texts = new List<string>();
            var message = new WsMessage();
            while (true)
            {
                WsReceiveResult got = client.Receive(message, Patience);
                Check.False(got == WsReceiveResult.Timeout, "no close from " + client.Url + " within " + Patience + " ms");
                Check.Equal(got == WsReceiveResult.Closed, message.Type == WsMessageType.Close, "Closed comes with a Close message");
                if (got == WsReceiveResult.Closed) return texts;
                texts.Add(message.GetText());
            }
        }

        // What /record/<id> saw as the client's close code and reason (from /report/<id>).
        public static KeyValuePair<int, string> Recorded(string id)
        {
            using (var report = WsClient.Connect(Url("/report/" + id)))
            {
                string json = Next(report, new WsMessage()).GetText();
                var m = Regex.Match(json, "\"code\": (\\d+|null), \"reason\": (null|\"(.*)\")}");
                Check.True(m.Success, "report " + json);
                int code = m.Groups[1].Value == "null" ? -1 : int.Parse(m.Groups[1].Value);
                return new KeyValuePair<int, string>(code, Regex.Unescape(m.Groups[3].Value));
            }
        }

        // A TCP port that accepts connections and never answers: the WebSocket upgrade hangs.
        public static TcpListener Silent()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start(16);
            return listener;
        }

        public static int PortOf(TcpListener listener)
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        // A port nobody listens on.
        public static int DeadPort()
        {
            var listener = Silent();
            int port = PortOf(listener);
            listener.Stop();
            return port;
        }

        // Names of this process's threads that belong to wsbridge (Linux: /proc/self/task/*/comm).
        public static List<string> NativeThreads()
        {
            var names = new List<string>();
            foreach (var task in Directory.GetDirectories("/proc/self/task"))
            {
                string name;
                try
                {
                    name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                }
                catch (IOException)
                {
                    continue; // the thread exited while we listed
                }
                if (name.StartsWith("wsbridge", StringComparison.Ordinal)) names.Add(name);
            }
            return names;
        }

        public static byte[] Pattern(int size, int seed)
        {
            var bytes = new byte[size];
            var random = new Random(seed);
            random.NextBytes(bytes);
            return bytes;
        }

        public static string AsciiText(int size)
        {
            var text = new StringBuilder(size);
            for (int i = 0; i < size; i++) text.Append((char)('a' + i % 26));
            return text.ToString();
        }
    }
}
