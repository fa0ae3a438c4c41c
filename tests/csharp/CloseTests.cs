// Close codes and reasons in both directions, and what a client looks like after a close.

using System;
using System.Threading;

namespace Wsbridge.Tests
{
    public static class CloseTests
    {
        [Case]
        public static void ClientSendsCodeAndReason()
        {
            string id = Server.NewId();
            using (var client = WsClient.Connect(Server.Url("/record/" + id)))
            {
                client.Send("last words");
                Check.Equal("last words", Server.Next(client, new WsMessage()).GetText(), "echo before close");
                Check.True(client.Close(4001, "done ✓ — bye 🎮", Server.Patience), "close handshake completed");
                Check.Equal(WsState.Closed, client.State, "state after Close");
            }
            var seen = Server.Recorded(id);
            Check.Equal(4001, seen.Key, "code the server received");
            Check.Equal("done ✓ — bye 🎮", seen.Value, "reason the server received");
        }

        [Case]
        public static void ServerSendsCodeAndReason()
        {
            string reason = "trainer stopped ✓";
            using (var client = WsClient.Connect(Server.Url("/close/4002/" + Uri.EscapeDataString(reason))))
            {
                var message = new WsMessage();
                Check.Equal("closing", Server.Next(client, message).GetText(), "message before the close");
                Check.Equal(WsReceiveResult.Closed, client.Receive(message, Server.Patience), "close delivered as Closed, not as a message");
                Check.Equal(WsMessageType.Close, message.Type, "type of the close");
                Check.Equal(0, message.Count, "a close carries no bytes");
                Check.True(client.CloseStatus.HasValue, "close status known");
                Check.Equal((ushort)4002, client.CloseStatus.Value.Code, "peer close code");
                Check.Equal(reason, client.CloseStatus.Value.Reason, "peer close reason");
                Check.Equal<WsException>(null, client.CloseError, "a clean close has no error");
                Check.Equal(WsState.Closed, client.State, "state");
                Check.False(client.TryReceive(message), "the close is delivered once");
                Check.Equal(WsReceiveResult.Closed, client.Receive(message, 0), "Receive after the close says Closed again");
                Check.Equal(WsMessageType.Close, message.Type, "with the Close message");
                Check.Equal(WsSendResult.Closed, client.Send("too late"), "Send after the close returns Closed, never throws");
                Check.False(client.TrySend("too late"), "TrySend after the close");
            }
        }

        [Case]
        public static void CodeWithoutReason()
        {
            using (var client = WsClient.Connect(Server.Url("/close/1000")))
            {
                var texts = Server.UntilClose(client);
                Check.Equal(1, texts.Count, "messages before the close");
                Check.Equal((ushort)1000, client.CloseStatus.Value.Code, "code");
                Check.Equal("", client.CloseStatus.Value.Reason, "no reason");
            }
        }

        [Case]
        public static void BadCodeIsRejectedAndChangesNothing()
        {
            using (var client = WsClient.Connect(Server.Url("/echo")))
            {
                Check.Contains("999", Check.Fails(WsResult.InvalidArgument, () => client.Close(999), "code 999").Message, "message names the code");
                Check.Fails(WsResult.InvalidArgument, () => client.Close(1000, new string('x', 124)), "reason over 123 bytes");
                client.Send("still open");
                Check.Equal("still open", Server.Next(client, new WsMessage()).GetText(), "usable after a rejected close");
                Check.True(client.Close(WsCloseCode.Normal, null, Server.Patience), "then a normal close");
            }
        }

        [Case]
        public static void UseAfterClose()
        {
            var client = WsClient.Connect(Server.Url("/echo"));
            Check.True(client.Close(WsCloseCode.Normal, "bye", Server.Patience), "close");
            Check.Equal(WsState.Closed, client.State, "state");
            Check.Equal(WsSendResult.Closed, client.Send("x"), "Send after Close");
            Check.False(client.TryReceive(new WsMessage()), "TryReceive after Close");
            Check.Equal(WsReceiveResult.Closed, client.Receive(new WsMessage(), 0), "Receive after Close");
            Check.False(client.Flush(0), "Flush after Close");
            Check.True(client.Close(), "a second Close is harmless");
            client.Dispose();
            client.Dispose();
        }

        [Case]
        public static void CloseWakesAReceiverOnAnotherThread()
        {
            using (var client = WsClient.Connect(Server.Url("/silent")))
            {
                Exception failure = null;
                WsMessageType seen = WsMessageType.Text;
                var started = new ManualResetEvent(false);
                var receiver = new Thread(() =>
                {
                    try
                    {
                        var message = new WsMessage();
                        started.Set();
                        Check.Equal(WsReceiveResult.Closed, client.Receive(message, -1), "the waiting Receive returns Closed");
                        seen = message.Type;
                    }
                    catch (Exception e)
                    {
                        failure = e;
                    }
                });
                receiver.Start();
                started.WaitOne();
                client.Close(WsCloseCode.Normal, null, Server.Patience);
                Check.True(receiver.Join(Server.Patience), "the receiver is still waiting after Close");
                Check.Equal<Exception>(null, failure, "the receiver threw");
                Check.Equal(WsMessageType.Close, seen, "receiver got the close");
            }
        }

        [Case]
        public static void DisposeSaysGoingAway()
        {
            string id = Server.NewId();
            var client = WsClient.Connect(Server.Url("/record/" + id));
            client.Dispose();
            Check.Equal(1001, Server.Recorded(id).Key, "code the server received from Dispose");
        }
    }
}
