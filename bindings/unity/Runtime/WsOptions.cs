// Connection options, serialized to the options JSON of wsb_connect. Every property left null
// keeps the library's default (listed in include/wsbridge.h); the library rejects bad values
// with the option's name in the message.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Wsbridge
{
    public sealed class WsOptions
    {
        private readonly Dictionary<string, string> headers = new Dictionary<string, string>();
        private readonly List<string> subprotocols = new List<string>();
        private readonly WsTlsOptions tls = new WsTlsOptions();

        /// <summary>Bound on DNS, TCP connect and the HTTP upgrade together (default 10000).</summary>
        public int? ConnectTimeoutMs { get; set; }

        /// <summary>Extra headers for the upgrade request, e.g. Authorization.</summary>
        public IDictionary<string, string> Headers { get { return headers; } }

        /// <summary>Offered in Sec-WebSocket-Protocol; WsClient.Subprotocol tells which one the server chose.</summary>
        public IList<string> Subprotocols { get { return subprotocols; } }

        /// <summary>Largest message in either direction, in bytes (default 16 MiB).</summary>
        public int? MaxMessageSize { get; set; }

        /// <summary>Interval of wsbridge's own keepalive pings (default 10000; 0 disables).</summary>
        public int? PingIntervalMs { get; set; }

        /// <summary>After a ping, a peer silent for this long is reported lost (default 20000).</summary>
        public int? PongTimeoutMs { get; set; }

        /// <summary>Bytes accepted by Send but not yet written; past it TrySend returns false (default 8 MiB).</summary>
        public int? SendQueueMaxBytes { get; set; }

        /// <summary>Received bytes waiting for TryReceive; past it reading pauses (default 8 MiB).</summary>
        public int? RecvQueueMaxBytes { get; set; }

        /// <summary>Trust settings for wss:// URLs (by default the system's root certificates).</summary>
        public WsTlsOptions Tls { get { return tls; } }

        /// <summary>An HTTP proxy to tunnel through, http://[user:password@]host[:port].</summary>
        public string Proxy { get; set; }

        /// <summary>Without Proxy, take the proxy from HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY
        /// as curl does (default true); false always connects directly.</summary>
        public bool? ProxyFromEnv { get; set; }

        /// <summary>Reconnect after a lost link, with backoff and jitter (the "reconnect" option of
        /// wsbridge.h, which states when it retries). Off by default. State is Reconnecting
        /// meanwhile; Send queues (up to SendQueueMaxBytes) and the messages go out after the new
        /// handshake; TryReceive/Receive deliver a Reconnected message once per new connection;
        /// when it gives up, the Close message with CloseError saying so.</summary>
        public bool Reconnect { get; set; }

        /// <summary>First delay after a loss, in ms (library default 100); doubles after each failed attempt.</summary>
        public int? ReconnectDelayMs { get; set; }

        /// <summary>Cap of that delay, in ms (library default 5000).</summary>
        public int? ReconnectMaxDelayMs { get; set; }

        /// <summary>Give up when no connection has been open for this long, in ms; -1 never
        /// (library default 60000).</summary>
        public int? ReconnectGiveUpMs { get; set; }

        /// <summary>Share of each delay that is random, 0 to 100 (library default 50), so games do
        /// not all come back at the same instant.</summary>
        public int? ReconnectJitterPercent { get; set; }

        /// <summary>The options as the JSON object wsb_connect takes ("{}" when nothing is set).</summary>
        public string ToJson()
        {
            var json = new StringBuilder("{");
            Number(json, "connect_timeout_ms", ConnectTimeoutMs);
            if (headers.Count > 0)
            {
                Key(json, "headers").Append('{');
                int start = json.Length;
                foreach (var pair in headers) Quote(Key(json, start, pair.Key), pair.Value ?? "");
                json.Append('}');
            }
            if (subprotocols.Count > 0)
            {
                Key(json, "subprotocols").Append('[');
                int start = json.Length;
                foreach (string protocol in subprotocols) Quote(Separate(json, start), protocol ?? "");
                json.Append(']');
            }
            Number(json, "max_message_size", MaxMessageSize);
            Number(json, "ping_interval_ms", PingIntervalMs);
            Number(json, "pong_timeout_ms", PongTimeoutMs);
            Number(json, "send_queue_max_bytes", SendQueueMaxBytes);
            Number(json, "recv_queue_max_bytes", RecvQueueMaxBytes);
            if (tls.IsSet)
            {
                Key(json, "tls").Append('{');
                int start = json.Length;
                if (tls.CaFile != null) Quote(Key(json, start, "ca_file"), tls.CaFile);
                if (tls.ServerName != null) Quote(Key(json, start, "server_name"), tls.ServerName);
                if (tls.AcceptInvalidCerts.HasValue)
                    Key(json, start, "accept_invalid_certs").Append(tls.AcceptInvalidCerts.Value ? "true" : "false");
                json.Append('}');
            }
            if (Proxy != null) Quote(Key(json, "proxy"), Proxy);
            if (ProxyFromEnv.HasValue) Key(json, "proxy_from_env").Append(ProxyFromEnv.Value ? "true" : "false");
            if (Reconnect)
            {
                Key(json, "reconnect").Append('{');
                int start = json.Length;
                Number(json, start, "delay_ms", ReconnectDelayMs);
                Number(json, start, "max_delay_ms", ReconnectMaxDelayMs);
                Number(json, start, "give_up_ms", ReconnectGiveUpMs);
                Number(json, start, "jitter_percent", ReconnectJitterPercent);
                json.Append('}');
            }
            return json.Append('}').ToString();
        }

        public override string ToString()
        {
            return ToJson();
        }

        private static void Number(StringBuilder json, int start, string name, int? value)
        {
            if (value.HasValue) Key(json, start, name).Append(value.Value.ToString(CultureInfo.InvariantCulture));
        }

        private static void Number(StringBuilder json, string name, int? value)
        {
            if (value.HasValue) Key(json, name).Append(value.Value.ToString(CultureInfo.InvariantCulture));
        }

        // ", " unless nothing was written since `start`, the position after the object's or array's opening bracket.
        private static StringBuilder Separate(StringBuilder json, int start)
        {
            return json.Length > start ? json.Append(", ") : json;
        }

        // "name": in the object that opens at `start` (by default the outer one).
        private static StringBuilder Key(StringBuilder json, int start, string name)
        {
            return Quote(Separate(json, start), name).Append(": ");
        }

        private static StringBuilder Key(StringBuilder json, string name)
        {
            return Key(json, 1, name);
        }

        internal static StringBuilder Quote(StringBuilder json, string s)
        {
            json.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': json.Append("\\\""); break;
                    case '\\': json.Append("\\\\"); break;
                    case '\n': json.Append("\\n"); break;
                    case '\r': json.Append("\\r"); break;
                    case '\t': json.Append("\\t"); break;
                    default:
                        if (c < 0x20) json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else json.Append(c);
                        break;
                }
            }
            return json.Append('"');
        }
    }

    /// <summary>TLS settings of WsOptions (the "tls" object); they apply to wss:// URLs only.</summary>
    public sealed class WsTlsOptions
    {
        /// <summary>A PEM file of CA certificates to trust instead of the system's (a private CA):
        /// a path on disk, e.g. under Application.persistentDataPath (on Android, files in
        /// StreamingAssets stay inside the APK and must be copied out first).</summary>
        public string CaFile { get; set; }

        /// <summary>The name the server's certificate must carry, when the URL has an IP address
        /// or an alias; also sent as SNI.</summary>
        public string ServerName { get; set; }

        /// <summary>DEVELOPMENT ONLY: accept any certificate. The traffic is encrypted, but anyone
        /// on the path can read and change it.</summary>
        public bool? AcceptInvalidCerts { get; set; }

        internal bool IsSet
        {
            get { return CaFile != null || ServerName != null || AcceptInvalidCerts.HasValue; }
        }
    }
}
