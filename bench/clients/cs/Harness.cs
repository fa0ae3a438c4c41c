// The workloads every C# client row runs: the worker protocol of bench/README.md, command for
// command the same as the C harness (bench/clients/c/harness.c).
//
// A row implements IRow/IConn. The interface is asynchronous so that ClientWebSocket runs the
// way it is written to run (await, no blocking on its tasks); a synchronous library returns
// completed tasks, which costs one small allocation per call and no thread hop.
//
// C# 7.3 (Mono's mcs), like the Unity binding.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading.Tasks;

namespace Bench
{
    public interface IConn
    {
        Task SendAsync(byte[] data, int count);
        /// <summary>One whole message: in `scratch`, or in a buffer of the row's own when the
        /// library hands messages out in one (no copy is added).</summary>
        Task<ArraySegment<byte>> ReceiveAsync(byte[] scratch);
        Task CloseAsync();
        /// <summary>Drops the connection without waiting (teardown after the many-connection
        /// workloads, which is not measured).</summary>
        void Abort();
    }

    public interface IRow
    {
        Task<IConn> OpenAsync(string url);
    }

    public sealed class BenchFailure : Exception
    {
        public BenchFailure(string message) : base(message) { }
    }

    public static class Harness
    {
        const int Small = 64;
        static string baseUrl;
        static IRow row;

        public static int Run(IRow r, string[] args)
        {
            row = r;
            int wsPort = 0;
            for (int i = 0; i + 1 < args.Length; i += 2)
                if (args[i] == "--ws-port") wsPort = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            if (wsPort == 0)
            {
                Console.Error.WriteLine("usage: --ws-port N --raw-port N (then commands on stdin, see bench/README.md)");
                return 2;
            }
            baseUrl = "ws://127.0.0.1:" + wsPort;
            var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
            string line;
            while ((line = Console.In.ReadLine()) != null)
            {
                string[] w = line.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
                if (w.Length == 0) continue;
                if (w[0] == "quit") break;
                string result;
                try
                {
                    result = Dispatch(w).GetAwaiter().GetResult();
                }
                catch (Exception e)
                {
                    Exception inner = e is AggregateException ? e.InnerException : e;
                    result = "{\"error\":" + Quote(inner.GetType().Name + ": " + inner.Message) + "}";
                }
                stdout.WriteLine(result);
            }
            return 0;
        }

        static double Arg(string[] w, int i, double dflt)
        {
            return i < w.Length ? double.Parse(w[i], CultureInfo.InvariantCulture) : dflt;
        }

        static Task<string> Dispatch(string[] w)
        {
            switch (w[0])
            {
                case "rtt": if (w.Length >= 4) return Rtt((int)Arg(w, 1, 0), (int)Arg(w, 2, 0), (int)Arg(w, 3, 0), Arg(w, 4, 1e9)); break;
                case "upload": if (w.Length >= 3) return Upload((int)Arg(w, 1, 0), (int)Arg(w, 2, 0), Arg(w, 3, 1e9)); break;
                case "download": if (w.Length >= 3) return Download((int)Arg(w, 1, 0), (int)Arg(w, 2, 0), Arg(w, 3, 1e9)); break;
                case "conns": if (w.Length >= 3) return Conns((int)Arg(w, 1, 0), (int)Arg(w, 2, 0), Arg(w, 3, 1e9)); break;
                case "connect": if (w.Length >= 2) return Connect((int)Arg(w, 1, 0), Arg(w, 2, 1e9)); break;
                case "idle": if (w.Length >= 2) return Idle((int)Arg(w, 1, 0)); break;
            }
            throw new BenchFailure("unknown command or missing arguments: " + string.Join(" ", w));
        }

        // ---- helpers ---------------------------------------------------------------------------

        static long NowNs()
        {
            return (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
        }

        static double Now()
        {
            return Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
        }

        static long StatusField(string name)
        {
            foreach (string line in File.ReadAllLines("/proc/self/status"))
                if (line.StartsWith(name + ":", StringComparison.Ordinal))
                    return long.Parse(line.Substring(name.Length + 1).Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            return -1;
        }

        /// <summary>A full collection, so resident memory shows what is still referenced.</summary>
        static void Collect()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }

        static long OpenFds()
        {
            return Directory.GetFileSystemEntries("/proc/self/fd").Length;
        }

        static byte[] Pattern(int n)
        {
            var p = new byte[n];
            for (int i = 0; i < n; i++) p[i] = (byte)(i * 7 + 3);
            return p;
        }

        static Task<IConn> Open(string path)
        {
            return row.OpenAsync(baseUrl + path);
        }

        static async Task<ArraySegment<byte>> Expect(IConn c, byte[] buf, int size)
        {
            ArraySegment<byte> m = await c.ReceiveAsync(buf);
            if (m.Count != size) throw new BenchFailure("expected a " + size + "-byte message, got " + m.Count + " bytes");
            return m;
        }

        static string Samples(List<long> s)
        {
            var b = new StringBuilder("{\"samples_ns\":[");
            for (int i = 0; i < s.Count; i++)
            {
                if (i > 0) b.Append(',');
                b.Append(s[i].ToString(CultureInfo.InvariantCulture));
            }
            return b.Append("]}").ToString();
        }

        static string Quote(string s)
        {
            var b = new StringBuilder("\"");
            foreach (char ch in s)
            {
                if (ch == '"' || ch == '\\') b.Append('\\');
                b.Append(ch < ' ' ? ' ' : ch);
            }
            return b.Append('"').ToString();
        }

        static string F(double v)
        {
            return v.ToString("R", CultureInfo.InvariantCulture);
        }

        // ---- workloads -------------------------------------------------------------------------

        static async Task<string> Rtt(int size, int count, int warmup, double maxsec)
        {
            IConn c = await Open("/echo");
            byte[] output = Pattern(size), input = new byte[size + 1];
            for (int i = 0; i < warmup; i++)
            {
                await c.SendAsync(output, size);
                ArraySegment<byte> m = await Expect(c, input, size);
                if (i == 0)
                    for (int j = 0; j < size; j++)
                        if (m.Array[m.Offset + j] != output[j]) throw new BenchFailure("the echo of a " + size + "-byte message differs from what was sent");
            }
            var samples = new List<long>(count);
            double start = Now();
            for (int i = 0; i < count; i++)
            {
                long t0 = NowNs();
                await c.SendAsync(output, size);
                ArraySegment<byte> m = await c.ReceiveAsync(input);
                samples.Add(NowNs() - t0);
                if (m.Count != size) throw new BenchFailure("expected a " + size + "-byte message, got " + m.Count + " bytes");
                if (Now() - start > maxsec) break;
            }
            await c.CloseAsync();
            return Samples(samples);
        }

        static async Task<string> Upload(int size, int count, double maxsec)
        {
            IConn c = await Open("/sink");
            byte[] output = Pattern(size), input = new byte[size + 1];
            double t0 = Now();
            int sent = 0;
            while (sent < count)
            {
                await c.SendAsync(output, size);
                sent++;
                if ((sent & 15) == 1 && Now() - t0 > maxsec) break;
            }
            await c.SendAsync(output, 0);
            await Expect(c, input, 0);
            double t = Now() - t0;
            await c.CloseAsync();
            return "{\"messages\":" + sent + ",\"bytes\":" + F((double)sent * size) + ",\"seconds\":" + F(t) +
                   ",\"retries\":" + Retries.Take() + "}";
        }

        static async Task<string> Download(int size, int burst, double maxsec)
        {
            IConn c = await Open("/source/" + size + "/" + burst);
            byte[] input = new byte[size + 1];
            var last = new ArraySegment<byte>(input, 0, 0);
            long got = 0;
            double t0 = Now();
            do
            {
                await c.SendAsync(input, 0);
                for (int i = 0; i < burst; i++, got++) last = await Expect(c, input, size);
            } while (Now() - t0 < maxsec);
            double t = Now() - t0;
            if (size > 1 && last.Array[last.Offset + 1] != 38) throw new BenchFailure("downloaded payload is not the source pattern");
            await c.CloseAsync();
            return "{\"messages\":" + got + ",\"bytes\":" + F((double)got * size) + ",\"seconds\":" + F(t) + "}";
        }

        static async Task<IConn[]> OpenMany(int n)
        {
            var cs = new IConn[n];
            for (int i = 0; i < n; i++) cs[i] = await Open("/echo");
            return cs;
        }

        /// <summary>One lockstep round: a small message on every connection, then every echo
        /// (all receives outstanding at once, so an asynchronous library overlaps them).</summary>
        static async Task RoundTripAll(IConn[] cs, byte[] output, byte[][] inputs)
        {
            for (int i = 0; i < cs.Length; i++) await cs[i].SendAsync(output, Small);
            var pending = new Task<ArraySegment<byte>>[cs.Length];
            for (int i = 0; i < cs.Length; i++) pending[i] = cs[i].ReceiveAsync(inputs[i]);
            ArraySegment<byte>[] messages = await Task.WhenAll(pending);
            foreach (ArraySegment<byte> m in messages)
                if (m.Count != Small) throw new BenchFailure("expected a " + Small + "-byte message, got " + m.Count + " bytes");
        }

        static byte[][] Buffers(int n)
        {
            var b = new byte[n][];
            for (int i = 0; i < n; i++) b[i] = new byte[Small + 1];
            return b;
        }

        static async Task<string> Conns(int n, int rounds, double maxsec)
        {
            byte[] output = Pattern(Small);
            byte[][] inputs = Buffers(n);
            double t0 = Now();
            IConn[] cs = await OpenMany(n);
            double connected = Now() - t0;
            await RoundTripAll(cs, output, inputs);
            int r = 0;
            double t1 = Now();
            while (r < rounds)
            {
                await RoundTripAll(cs, output, inputs);
                r++;
                if (Now() - t1 > maxsec) break;
            }
            double t = Now() - t1;
            long threads = StatusField("Threads");
            foreach (IConn c in cs) c.Abort();
            return "{\"connections\":" + n + ",\"rounds\":" + r + ",\"messages\":" + ((long)n * r) + ",\"seconds\":" + F(t) +
                   ",\"threads\":" + threads + ",\"connect_seconds\":" + F(connected) + "}";
        }

        static async Task<string> Connect(int count, double maxsec)
        {
            var samples = new List<long>(count);
            double start = Now();
            for (int i = 0; i < count; i++)
            {
                long t0 = NowNs();
                IConn c = await Open("/echo");
                samples.Add(NowNs() - t0);
                await c.CloseAsync();
                if (Now() - start > maxsec) break;
            }
            return Samples(samples);
        }

        static async Task<string> Idle(int n)
        {
            byte[] output = Pattern(Small);
            byte[][] inputs = Buffers(n);
            Collect();
            long threads0 = StatusField("Threads"), rss0 = StatusField("VmRSS"), fds0 = OpenFds();
            IConn[] cs = await OpenMany(n);
            await RoundTripAll(cs, output, inputs);
            Collect();
            long threads1 = StatusField("Threads"), rss1 = StatusField("VmRSS"), fds1 = OpenFds();
            foreach (IConn c in cs) c.Abort();
            return "{\"connections\":" + n + ",\"threads_before\":" + threads0 + ",\"threads_after\":" + threads1 +
                   ",\"rss_kb_before\":" + rss0 + ",\"rss_kb_after\":" + rss1 +
                   ",\"fds_before\":" + fds0 + ",\"fds_after\":" + fds1 + "}";
        }
    }

    /// <summary>Counts sends retried because a send queue was full (reported with uploads).</summary>
    public static class Retries
    {
        static long count;
        public static void Add() { count++; }
        public static long Take() { long c = count; count = 0; return c; }
    }
}
