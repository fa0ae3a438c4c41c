// Messages out and back through the Python echo server: text and binary, sizes across the
// WebSocket length encodings up to 1 MiB, non-ASCII text, and connect without blocking.

using System;
using System.Text;

namespace Wsbridge.Tests
{
    public static class RoundTripTests
    {
        private static readonly int[] Sizes = { 0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20 };

        [Case]
        public static void Text()
        {
            using (var client = WsClient.Connect(Server.Url("/echo")))
            {
                var message = new WsMessage(16);
                foreach (int size in Sizes)
                {
                    string text = Server.AsciiText(size);
                    client.Send(text);
                    Server.Next(client, message);
                    Check.Equal(WsMessageType.Text, message.Type, size + "-byte text type");
                    Check.Equal(size, message.Count, "text length");
                    Check.True(message.GetText() == text, size + "-byte text differs after the round trip");
                }
                Check.True(message.Capacity >= 1 << 20, "the buffer grew to the largest message");
            }
        }

        [Case]
        public static void Binary()
        {
            using (var client = WsClient.Connect(Server.Url("/echo")))
            {
                var message = new WsMessage(0);
                foreach (int size in Sizes)
                {
                    byte[] data = Server.Pattern(size, size);
                    client.Send(data);
                    Server.Next(client, message);
                    Check.Equal(WsMessageType.Binary, message.Type, size + "-byte binary type");
                    Check.Bytes(data, 0, size, message, size + "-byte binary");
                }
            }
        }

        [Case]
        public static void SegmentsSendOnlyTheirSlice()
        {
            using (var client = WsClient.Connect(Server.Url("/echo")))
            {
                byte[] data = Server.Pattern(1000, 7);
                var message = new WsMessage();
                client.Send(new ArraySegment<byte>(data, 3, 500));
                Check.Bytes(data, 3, 500, Server.Next(client, message), "slice 3..503");
                client.Send(new ArraySegment<byte>(data, 1000, 0));
                Check.Equal(0, Server.Next(client, message).Count, "empty slice at the end");
                Check.Throws<ArgumentOutOfRangeException>(() => client.Send(new ArraySegment<byte>(data, 900, 100), (WsMessageType)7), "unknown type");
            }
        }

        [Case]
        public static void NonAsciiText()
        {
            string[] texts =
            {
                "héllo wörld", "✓ 日本語のテキスト", "🎮 game 🤖 trainer", "Ελληνικά — Русский — עברית",
                new StringBuilder().Insert(0, "日本🎮", 100000).ToString(), // 1 MiB of 3- and 4-byte characters
            };
            using (var client = WsClient.Connect(Server.Url("/echo")))
            {
                var message = new WsMessage();
                foreach (string text in texts)
                {
                    client.Send(text);
                    Server.Next(client, message);
                    Check.Equal(WsMessageType.Text, message.Type, "type");
                    Check.Equal(Encoding.UTF8.GetByteCount(text), message.Count, "UTF-8 length");
                    Check.True(message.GetText() == text, "text differs after the round trip: " + (text.Length > 40 ? text.Substring(0, 40) : text));
                }
            }
        }

        [Case]
        public static void TextAndBinaryStayApart()
        {
            using (var client = WsClient.Connect(Server.Url("/echo")))
            {
                byte[] abc = Encoding.ASCII.GetBytes("abc");
                client.Send("abc");
                client.Send(abc);
                client.Send(new ArraySegment<byte>(abc), WsMessageType.Text);
                var message = new WsMessage();
                Check.Equal(WsMessageType.Text, Server.Next(client, message).Type, "string sent as text");
                Check.Equal(WsMessageType.Binary, Server.Next(client, message).Type, "byte[] sent as binary");
                Check.Equal(WsMessageType.Text, Server.Next(client, message).Type, "segment sent as text");
                Check.Equal("abc", message.GetText(), "content");
            }
        }

        [Case]
        public static void StartConnectQueuesUntilOpen()
        {
            using (var client = WsClient.StartConnect(Server.Url("/echo")))
            {
                WsState first = client.State;
                Check.True(first == WsState.Connecting || first == WsState.Open, "state right after StartConnect: " + first);
                client.Send("sent while connecting");
                var message = new WsMessage();
                Check.Equal("sent while connecting", Server.Next(client, message).GetText(), "queued message");
                Check.Equal(WsState.Open, client.State, "state once a reply came");
                Check.False(client.TryReceive(message), "nothing else waiting");
            }
        }

        [Case]
        public static void ReceiveConvenienceAndTimeout()
        {
            using (var client = WsClient.Connect(Server.Url("/silent")))
            {
                Check.Equal(WsReceiveResult.Timeout, client.Receive(new WsMessage(), 50), "nothing from /silent");
                Check.False(client.TryReceive(new WsMessage()), "TryReceive on a quiet connection");
                Check.Equal(WsState.Open, client.State, "still open");
            }
            using (var client = WsClient.Connect(Server.Url("/echo")))
            {
                client.Send("one");
                var message = new WsMessage(0);
                Check.Equal(WsReceiveResult.Message, client.Receive(message, Server.Patience), "Receive(message, timeout)");
                Check.Equal("one", message.GetText(), "the message");
            }
        }
    }
}
