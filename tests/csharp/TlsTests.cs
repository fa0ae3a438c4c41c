// wss:// through the package: a Python websockets trainer over TLS with a certificate from a
// throw-away test CA (tests/network/pki.py), trusted through WsOptions.Tls.CaFile.

using System;

namespace Wsbridge.Tests
{
    public static class TlsTests
    {
        private static string Url(string path)
        {
            return "wss://127.0.0.1:" + Server.Env("WSB_TLS_PORT") + path;
        }

        private static WsOptions Trusting(string ca)
        {
            var options = new WsOptions { ConnectTimeoutMs = 10000 };
            options.Tls.CaFile = ca;
            return options;
        }

        [Case]
        public static void RoundTripOverTls()
        {
            using (var client = WsClient.Connect(Url("/env/3"), Trusting(Server.Env("WSB_TLS_CA"))))
            {
                var message = new WsMessage();
                string greeting = Server.Next(client, message).GetText();
                Check.Contains("\"path\": \"/env/3\"", greeting, "the TLS trainer's greeting");
                client.Send("héllo over TLS ✓");
                Check.Equal("héllo over TLS ✓", Server.Next(client, message).GetText(), "text echo");
                byte[] big = Server.Pattern(1 << 20, 3);
                client.Send(big);
                Check.Bytes(big, 0, big.Length, Server.Next(client, message), "1 MiB binary echo");
                Check.True(client.Close(WsCloseCode.Normal, "bye", Server.Patience), "close handshake over TLS");
            }
        }

        [Case]
        public static void UntrustedCertificateIsTlsFailed()
        {
            // Default trust: the system's roots, which do not include the test CA.
            var e = Check.Fails(WsResult.TlsFailed, () => WsClient.Connect(Url("/env/0")), "system roots");
            Check.Contains("127.0.0.1", e.Message, "message names the host");
            using (var client = WsClient.StartConnect(Url("/env/0"), Trusting(Server.Env("WSB_OTHER_CA"))))
            {
                Server.UntilClose(client);
                Check.Equal(WsResult.TlsFailed, client.CloseError.Result, "CloseError of StartConnect: " + client.CloseError);
            }
            var anything = new WsOptions();
            anything.Tls.AcceptInvalidCerts = true; // development only
            using (var client = WsClient.Connect(Url("/env/1"), anything))
                Check.Contains("/env/1", Server.Next(client, new WsMessage()).GetText(), "accept_invalid_certs connects");
        }

        [Case]
        public static void WrongServerNameIsTlsFailed()
        {
            var options = Trusting(Server.Env("WSB_TLS_CA"));
            options.Tls.ServerName = "other.test";
            var e = Check.Fails(WsResult.TlsFailed, () => WsClient.Connect(Url("/env/0"), options), "certificate for 127.0.0.1, asked for other.test");
            Check.Contains("other.test", e.Message, "message names the expected name");
        }
    }
}
