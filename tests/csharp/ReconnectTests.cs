// WsOptions.Reconnect: the native library's reconnect as the C# binding shows it (State
// Reconnecting, the Reconnected message, LastReconnect, WsConnection's Reconnected event),
// against real trainers: one that refuses (HTTP 503) for a while, one that restarts (closes
// with 1012). tests/interop/reconnect_test.c also kills and restarts one.

namespace Wsbridge.Tests
{
    public static class ReconnectTests
    {
        private static string Misbehave(string path)
        {
            return "ws://127.0.0.1:" + Server.Env("WSB_MISBEHAVE_PORT") + path;
        }

        private static WsOptions Fast()
        {
            return new WsOptions { Reconnect = true, ReconnectDelayMs = 20, ReconnectGiveUpMs = -1 };
        }

        [Case]
        public static void OptionsJson()
        {
            var o = new WsOptions { Reconnect = true };
            Check.Equal("{\"reconnect\": {}}", o.ToJson(), "defaults");
            o.ReconnectDelayMs = 20;
            o.ReconnectMaxDelayMs = 400;
            o.ReconnectGiveUpMs = -1;
            o.ReconnectJitterPercent = 0;
            Check.Equal("{\"reconnect\": {\"delay_ms\": 20, \"max_delay_ms\": 400, \"give_up_ms\": -1, \"jitter_percent\": 0}}",
                        o.ToJson(), "every field");
            Check.Equal("{}", new WsOptions { ReconnectDelayMs = 20 }.ToJson(), "off unless Reconnect");
            o.ReconnectJitterPercent = 101;
            var e = Check.Fails(WsResult.InvalidArgument, () => WsClient.StartConnect(Server.Url("/echo"), o), "jitter over 100");
            Check.Contains("reconnect.jitter_percent", e.Message, "the message names the option");
        }

        [Case]
        public static void RefusingTrainerIsRetriedAndTheQueuedMessageArrives()
        {
            using (var client = WsClient.StartConnect(Misbehave("/refuse/2/" + Server.NewId()), Fast()))
            {
                Check.Equal(WsSendResult.Queued, client.Send("sent while refused"), "queued while connecting");
                var message = new WsMessage();
                Check.Equal(WsReceiveResult.Message, client.Receive(message, Server.Patience), "the echo once accepted");
                Check.Equal("sent while refused", message.GetText(), "the queued message");
                Check.Equal(WsState.Open, client.State, "open");
                Check.Equal(null, client.LastReconnect, "a first connect is not a reconnect");
            }
        }

        [Case]
        public static void RestartingTrainerGivesOneReconnectedMessage()
        {
            using (var client = WsClient.Connect(Server.Url("/close/1012/restart"), Fast()))
            {
                var message = new WsMessage();
                Check.Equal(WsReceiveResult.Message, client.Receive(message, Server.Patience), "first connection");
                Check.Equal("closing", message.GetText(), "its message");
                Check.Equal(WsReceiveResult.Reconnected, client.Receive(message, Server.Patience), "then the news");
                Check.Equal(WsMessageType.Reconnected, message.Type, "as a message type");
                Check.Contains("code 1012 \"restart\"", client.LastReconnect, "LastReconnect says what ended the previous one");
                Check.Equal(WsReceiveResult.Message, client.Receive(message, Server.Patience), "the new connection");
                Check.Equal("closing", message.GetText(), "its message");
                // TryReceive, polled per frame, delivers the next news the same way.
                bool news = false;
                for (int i = 0; i < Server.Patience && !news; i++)
                {
                    if (client.TryReceive(message)) news = message.Type == WsMessageType.Reconnected;
                    else System.Threading.Thread.Sleep(1); // the rest of a frame
                }
                Check.True(news, "TryReceive delivered a Reconnected message");
            }
        }

        [Case]
        public static void GivingUpEndsWithTheCloseMessageAndTheFacts()
        {
            var options = new WsOptions { Reconnect = true, ReconnectDelayMs = 10, ReconnectMaxDelayMs = 40, ReconnectGiveUpMs = 200 };
            using (var client = WsClient.StartConnect("ws://127.0.0.1:" + Server.DeadPort() + "/", options))
            {
                var message = new WsMessage();
                Check.Equal(WsReceiveResult.Closed, client.Receive(message, -1), "gave up");
                Check.Equal(WsState.Closed, client.State, "closed");
                Check.Equal(WsResult.ConnectFailed, client.CloseError.Result, "the last attempt's error");
                Check.Contains("gave up trying to connect", client.CloseError.Message, "says so");
            }
        }

        [Case]
        public static void WsConnectionRaisesReconnected()
        {
            var connection = new WsConnection(Server.Url("/close/1012/restart"), Fast());
            string facts = null;
            int opened = 0, closed = 0;
            connection.Opened += () => opened++;
            connection.Reconnected += f => facts = f;
            connection.Closed += (s, e) => closed++;
            connection.Open();
            for (int i = 0; i < Server.Patience && facts == null; i++)
            {
                connection.Update();
                if (facts == null) System.Threading.Thread.Sleep(1); // the rest of a frame
            }
            Check.True(facts != null && facts.Contains("1012"), "Reconnected raised with the facts: " + facts);
            Check.Equal(1, opened, "Opened once");
            Check.Equal(0, closed, "not closed");
            Check.True(connection.IsActive, "still active: reconnecting or open");
            connection.Dispose();
        }
    }
}
