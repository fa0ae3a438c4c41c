// UTF-8 conversions done by hand, so that the native calls take plain byte pointers.

using System;
using System.Text;

namespace Wsbridge
{
    internal static unsafe class Utf8
    {
        // Strings up to this many UTF-8 bytes are encoded into a per-thread scratch buffer that
        // is kept; longer ones get a buffer of their own (so one big message does not pin
        // memory on that thread forever).
        private const int ScratchLimit = 64 * 1024;

        [ThreadStatic] private static byte[] scratch;

        private static readonly UTF8Encoding Encoding = new UTF8Encoding(false, false);

        // NUL-terminated UTF-8 for an argument such as a URL or a close reason; null stays null.
        internal static byte[] NullTerminated(string s)
        {
            if (s == null) return null;
            var bytes = new byte[Encoding.GetByteCount(s) + 1];
            Encoding.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        // Encodes `s` without allocating when it fits the per-thread scratch buffer. The bytes
        // are valid until the next call on the same thread. Lone surrogates become U+FFFD, so
        // the result is always valid UTF-8.
        internal static byte[] Encode(string s, out int length)
        {
            int max = Encoding.GetMaxByteCount(s.Length);
            byte[] buffer;
            if (max <= ScratchLimit)
            {
                buffer = scratch;
                if (buffer == null || buffer.Length < max)
                    scratch = buffer = new byte[Math.Max(max, 1024)];
            }
            else
            {
                buffer = new byte[Encoding.GetByteCount(s)];
            }
            length = Encoding.GetBytes(s, 0, s.Length, buffer, 0);
            return buffer;
        }

        internal static string Decode(byte[] bytes, int offset, int count)
        {
            return Encoding.GetString(bytes, offset, count);
        }

        // A NUL-terminated UTF-8 string owned by the library (static), or "" for NULL.
        internal static string FromNative(byte* p)
        {
            if (p == null) return "";
            int n = 0;
            while (p[n] != 0) n++;
            return Encoding.GetString(p, n);
        }

        internal static string FromNative(byte* p, int length)
        {
            return length == 0 ? "" : Encoding.GetString(p, length);
        }
    }
}
