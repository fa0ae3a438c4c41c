// WsOptions: the JSON it produces, and that the library accepts every key it can produce.

namespace Wsbridge.Tests
{
    public static class OptionsTests
    {
        [Case]
        public static void EmptyOptionsAreEmptyJson()
        {
            Check.Equal("{}", new WsOptions().ToJson(), "nothing set");
        }

        [Case]
        public static void JsonHasEveryOptionAndEscapes()
        {
            var options = Full();
            Check.Equal(
                "{\"connect_timeout_ms\": 5000, \"headers\": {\"X-Token\": \"s3cret\", \"X-Quote\": \"say \\\"hi\\\" \\\\ \\u0001 ✓\"}, " +
                "\"subprotocols\": [\"other\", \"wsb.v1\"], \"max_message_size\": 2097152, \"ping_interval_ms\": 0, " +
                "\"pong_timeout_ms\": 30000, \"send_queue_max_bytes\": 1048576, \"recv_queue_max_bytes\": 1048576, " +
                "\"tls\": {\"server_name\": \"trainer.local\", \"accept_invalid_certs\": false}, \"proxy_from_env\": false}",
                options.ToJson(), "options JSON");
        }

        [Case]
        public static void TlsAndProxyJson()
        {
            var options = new WsOptions { Proxy = "http://user:p%40ss@127.0.0.1:3128" };
            options.Tls.CaFile = "C:\\certs\\ca.pem";
            Check.Equal("{\"tls\": {\"ca_file\": \"C:\\\\certs\\\\ca.pem\"}, \"proxy\": \"http://user:p%40ss@127.0.0.1:3128\"}",
                options.ToJson(), "tls and proxy JSON");
        }

        [Case]
        public static void LibraryAcceptsEveryOption()
        {
            var options = Full();
            options.Headers["X-Quote"] = "say \"hi\" \\ ok"; // header values must be visible ASCII
            options.Tls.ServerName = null; // tls is for wss:// only (TlsTests use it)
            options.Tls.AcceptInvalidCerts = null;
            using (var client = WsClient.Connect(Server.Url("/headers"), options))
            {
                // Header names are case-insensitive; they arrive in lower case.
                string headers = Server.Next(client, new WsMessage()).GetText();
                Check.Contains("\"x-token\": \"s3cret\"", headers, "the server saw the header");
                Check.Contains("\"x-quote\": \"say \\\"hi\\\" \\\\ ok\"", headers, "quotes and backslashes survived");
                Check.Equal("wsb.v1", client.Subprotocol, "negotiated subprotocol");
            }
            using (var client = WsClient.Connect(Server.Url("/echo")))
                Check.Equal("", client.Subprotocol, "no subprotocol offered");
        }

        [Case]
        public static void VersionsAgree()
        {
            Check.Equal(WsRuntime.BindingVersion, WsRuntime.Version, "library version vs the header version this package mirrors");
        }

        private static WsOptions Full()
        {
            var options = new WsOptions
            {
                ConnectTimeoutMs = 5000,
                MaxMessageSize = 2 << 20,
                PingIntervalMs = 0,
                PongTimeoutMs = 30000,
                SendQueueMaxBytes = 1 << 20,
                RecvQueueMaxBytes = 1 << 20,
            };
            options.Headers["X-Token"] = "s3cret";
            options.Headers["X-Quote"] = "say \"hi\" \\ \u0001 ✓";
            options.Subprotocols.Add("other");
            options.Subprotocols.Add("wsb.v1");
            options.Tls.ServerName = "trainer.local"; // applies to wss:// only
            options.Tls.AcceptInvalidCerts = false;
            options.ProxyFromEnv = false;
            return options;
        }
    }
}
