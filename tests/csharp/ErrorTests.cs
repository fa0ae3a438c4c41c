// Failures: each one a WsException with the result code and the library's message, and for a
// connection started with StartConnect, a Close message whose CloseError says the same.

using System;

namespace Wsbridge.Tests
{
    public static class ErrorTests
    {
        [Case]
        public static void BadUrl()
        {
            foreach (string url in new[] { "http://127.0.0.1/env/0", "not a url", "ws://", "" })
            {
                var e = Check.Fails(WsResult.InvalidArgument, () => WsClient.Connect(url), "Connect(\"" + url + "\")");
                Check.Contains("WSB_INVALID_ARGUMENT: ", e.Message, "message starts with the code name");
                if (url.Length > 5) Check.Contains(url, e.Message, "message quotes the URL");
                Check.Fails(WsResult.InvalidArgument, () => WsClient.StartConnect(url), "StartConnect(\"" + url + "\")");
            }
            Check.Throws<ArgumentNullException>(() => WsClient.Connect(null), "null URL");
        }

        [Case]
        public static void BadOptionIsNamed()
        {
            var options = new WsOptions { PongTimeoutMs = 0 };
            var e = Check.Fails(WsResult.InvalidArgument, () => WsClient.Connect(Server.Url("/echo"), options), "pong_timeout_ms 0");
            Check.Contains("pong_timeout_ms", e.Message, "message names the option");
        }

        [Case]
        public static void UnroutedPathIs404()
        {
            string url = Server.Url("/no/such/route");
            var e = Check.Fails(WsResult.HandshakeFailed, () => WsClient.Connect(url), "Connect to an unrouted path");
            Check.Contains("404", e.Message, "message has the HTTP status");
            using (var client = WsClient.StartConnect(url))
            {
                var texts = Server.UntilClose(client);
                Check.Equal(0, texts.Count, "no message from a refused connection");
                Check.Equal(WsResult.HandshakeFailed, client.CloseError.Result, "CloseError of StartConnect");
                Check.Contains("404", client.CloseError.Message, "CloseError has the HTTP status");
                Check.Equal(WsState.Closed, client.State, "state");
            }
        }

        [Case]
        public static void ConnectTimeout()
        {
            var silent = Server.Silent();
            try
            {
                string url = "ws://127.0.0.1:" + Server.PortOf(silent) + "/env/0";
                var options = new WsOptions { ConnectTimeoutMs = 300 };
                var e = Check.Fails(WsResult.Timeout, () => WsClient.Connect(url, options), "Connect to a server that never answers");
                Check.Contains("300", e.Message, "message has the timeout");
                using (var client = WsClient.StartConnect(url, options))
                {
                    Check.Equal(WsState.Connecting, client.State, "state while the upgrade hangs");
                    client.Send("queued, never sent");
                    Server.UntilClose(client);
                    Check.True(client.CloseError != null, "StartConnect reports the connect timeout");
                    // A receive's timeout means "no message yet", so the connect timeout comes as a connect failure.
                    Check.Equal(WsResult.ConnectFailed, client.CloseError.Result, "CloseError of StartConnect: " + client.CloseError.Message);
                    Check.Contains("timed out after 300 ms", client.CloseError.Message, "the message says it timed out");
                    Check.Equal((ushort)1006, client.CloseStatus.Value.Code, "no close frame came");
                }
            }
            finally
            {
                silent.Stop();
            }
        }

        [Case]
        public static void ConnectRefused()
        {
            string url = "ws://127.0.0.1:" + Server.DeadPort() + "/env/0";
            var e = Check.Fails(WsResult.ConnectFailed, () => WsClient.Connect(url), "Connect to a closed port");
            Check.Contains("127.0.0.1", e.Message, "message names the address");
            using (var client = WsClient.StartConnect(url))
            {
                Server.UntilClose(client);
                Check.Equal(WsResult.ConnectFailed, client.CloseError.Result, "CloseError of StartConnect");
            }
        }

        [Case]
        public static void OutgoingMessageTooBig()
        {
            using (var client = WsClient.Connect(Server.Url("/echo"), new WsOptions { MaxMessageSize = 1024 }))
            {
                var e = Check.Fails(WsResult.MessageTooBig, () => client.Send(new byte[1025]), "1025 bytes over a 1024 limit");
                Check.Contains("1025", e.Message, "message has the size");
                client.Send(new byte[1024]);
                Check.Equal(1024, Server.Next(client, new WsMessage()).Count, "the connection is unchanged");
            }
        }

        [Case]
        public static void IncomingMessageTooBig()
        {
            // /headers first sends the request headers as JSON: well over 64 bytes.
            using (var client = WsClient.Connect(Server.Url("/headers"), new WsOptions { MaxMessageSize = 64 }))
            {
                Server.UntilClose(client);
                Check.Equal(WsResult.MessageTooBig, client.CloseError.Result, "CloseError: " + client.CloseError);
            }
        }

        [Case]
        public static void InvalidUtf8Text()
        {
            using (var client = WsClient.Connect(Server.Url("/echo")))
            {
                var bad = new ArraySegment<byte>(new byte[] { 0x61, 0xff, 0xfe });
                Check.Fails(WsResult.InvalidUtf8, () => client.Send(bad, WsMessageType.Text), "invalid UTF-8 as text");
                client.Send(bad);
                Check.Equal(3, Server.Next(client, new WsMessage()).Count, "the same bytes go as binary");
            }
        }
    }
}
