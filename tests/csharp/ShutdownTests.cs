// WsRuntime.Shutdown: what the package runs before an editor assembly reload, when leaving
// play mode and on Application.quitting. Every client ends up closed, the trainer is told
// "going away", and the library's native threads are gone; the library stays usable.

using System.Collections.Generic;

namespace Wsbridge.Tests
{
    public static class ShutdownTests
    {
        [Case]
        public static void ClosesEveryClientAndStopsNativeThreads()
        {
            Check.Equal(0, Server.NativeThreads().Count, "no wsbridge thread before the first connection");
            string id = Server.NewId();
            var silent = Server.Silent();
            var clients = new List<WsClient>
            {
                WsClient.Connect(Server.Url("/echo")),
                WsClient.Connect(Server.Url("/record/" + id)),
                WsClient.StartConnect(Server.Url("/echo")),
                WsClient.StartConnect("ws://127.0.0.1:" + Server.PortOf(silent) + "/hangs"),
            };
            clients[2].Send("opened");
            Check.Equal("opened", Server.Next(clients[2], new WsMessage()).GetText(), "async client open");
            Check.True(Server.NativeThreads().Count > 0, "wsbridge threads run while connected");

            Check.True(WsRuntime.Shutdown(Server.Patience), "every close handshake completed");

            Check.Equal("", string.Join(", ", Server.NativeThreads()), "wsbridge threads left after Shutdown");
            var message = new WsMessage();
            foreach (var client in clients)
            {
                Check.Equal(WsState.Closed, client.State, client.Url + " state after Shutdown");
                Check.True(client.TryReceive(message), client.Url + ": the close is reported");
                Check.Equal(WsMessageType.Close, message.Type, client.Url + ": a Close message");
                Check.Contains("WsRuntime.Shutdown", client.CloseError.Message, client.Url + ": CloseError says why");
                Check.Equal(WsSendResult.Closed, client.Send("x"), client.Url + ": Send after Shutdown");
                client.Dispose();
                client.Dispose();
            }
            Check.Equal(1001, Server.Recorded(id).Key, "the trainer was told 'going away'");
            // Server.Recorded's client was disposed: its close may still finish in the background.
            Check.True(WsRuntime.Shutdown(Server.Patience), "a second Shutdown, with no client open");
            silent.Stop();

            using (var again = WsClient.Connect(Server.Url("/echo")))
            {
                again.Send("after shutdown");
                Check.Equal("after shutdown", Server.Next(again, message).GetText(), "the library is usable again");
            }
        }

        [Case]
        public static void WithNothingLoadedIsHarmless()
        {
            Check.True(WsRuntime.Shutdown(0), "Shutdown before any connection");
            Check.Throws<System.ArgumentOutOfRangeException>(() => WsRuntime.Shutdown(-2), "timeout below -1");
        }
    }
}
