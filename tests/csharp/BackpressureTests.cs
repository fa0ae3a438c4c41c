// TrySend against a trainer that stops reading (tests/servers/misbehave.py /stall): once
// SendQueueMaxBytes is reached it returns false and the message is not queued, so nothing is
// lost or duplicated when the game retries later.

using System;
using System.Text.RegularExpressions;

namespace Wsbridge.Tests
{
    public static class BackpressureTests
    {
        private const int Size = 64 * 1024;
        private const int Limit = 100000; // far beyond what the socket buffers can hold

        private static string Url(string path)
        {
            return "ws://127.0.0.1:" + Server.Env("WSB_MISBEHAVE_PORT") + path;
        }

        [Case]
        public static void TrySendStopsAtTheQueueCapWithoutLoss()
        {
            string id = Server.NewId();
            var options = new WsOptions { SendQueueMaxBytes = 4 * Size };
            using (var client = WsClient.Connect(Url("/stall/" + id), options))
            {
                var payload = new byte[Size];
                int sent = 0;
                while (sent < Limit && client.TrySend(new ArraySegment<byte>(Numbered(payload, sent))))
                    sent++;
                Check.True(sent < Limit, "TrySend never returned false against a trainer that stopped reading");
                // Send at the cap returns a result, never throws: QueueFull, or Queued when the I/O
                // thread moved bytes into the kernel's socket buffer since TrySend was refused
                // (it still grows while the trainer does not read). Either way nothing is lost.
                WsSendResult atCap = client.Send(Numbered(payload, sent));
                Check.True(atCap == WsSendResult.QueueFull || atCap == WsSendResult.Queued,
                           "Send at the cap returns QueueFull or Queued, not " + atCap);
                if (atCap == WsSendResult.Queued)
                    sent++;

                using (var resume = WsClient.Connect(Url("/resume/" + id)))
                    Check.Equal("resumed", Server.Next(resume, new WsMessage()).GetText(), "resume");

                // Wait for the queue to drain (a game could instead retry on a later frame).
                Check.True(client.Flush(30000), "the send queue never drained");
                Check.True(client.TrySend("END"), "TrySend after Flush");
                string summary = Server.Next(client, new WsMessage()).GetText();
                var m = Regex.Match(summary, "\"received\": (\\d+), \"in_order\": (true|false)");
                Check.True(m.Success, "summary " + summary);
                Check.Equal(sent, int.Parse(m.Groups[1].Value), "messages the trainer received (" + summary + ")");
                Check.Equal("true", m.Groups[2].Value, "in order, none duplicated (" + summary + ")");
            }
        }

        private static byte[] Numbered(byte[] payload, long seq)
        {
            for (int i = 0; i < 8; i++) payload[i] = (byte)(seq >> (56 - 8 * i));
            return payload;
        }
    }
}
