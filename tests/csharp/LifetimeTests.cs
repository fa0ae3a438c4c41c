// Dispose, use after Dispose, and the finalizer of a client nobody disposed.

using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Wsbridge.Tests
{
    public static class LifetimeTests
    {
        [Case]
        public static void UseAfterDisposeThrows()
        {
            var client = WsClient.Connect(Server.Url("/echo"));
            client.Dispose();
            Check.True(client.IsDisposed, "IsDisposed");
            Check.Equal(WsState.Closed, client.State, "State of a disposed client");
            var message = new WsMessage();
            Check.Throws<ObjectDisposedException>(() => client.Send("x"), "Send(string)");
            Check.Throws<ObjectDisposedException>(() => client.Send(new byte[1]), "Send(byte[])");
            Check.Throws<ObjectDisposedException>(() => client.TrySend("x"), "TrySend");
            Check.Throws<ObjectDisposedException>(() => client.TryReceive(message), "TryReceive");
            Check.Throws<ObjectDisposedException>(() => client.Receive(message, 10), "Receive");
            Check.Throws<ObjectDisposedException>(() => client.Close(), "Close");
            Check.Throws<ObjectDisposedException>(() => { var _ = client.Subprotocol; }, "Subprotocol");
            client.Dispose(); // harmless
            client.Dispose();
            Check.Contains("Disposed", client.ToString(), "ToString");
        }

        [Case]
        public static void DisposeWhileAnotherThreadReceives()
        {
            var client = WsClient.Connect(Server.Url("/silent"));
            Exception seen = null;
            var last = new WsMessage();
            var started = new ManualResetEvent(false);
            var receiver = new Thread(() =>
            {
                started.Set();
                try
                {
                    while (client.Receive(last, 50) == WsReceiveResult.Timeout) { }
                }
                catch (Exception e)
                {
                    seen = e;
                }
            });
            receiver.Start();
            started.WaitOne();
            client.Dispose();
            Check.True(receiver.Join(Server.Patience), "the receiver still runs after Dispose");
            // Inside wsb_recv when Dispose ran: the Close message; after: ObjectDisposedException.
            Check.True(seen is ObjectDisposedException || (seen == null && last.Type == WsMessageType.Close),
                "the receiver ends with the Close message or ObjectDisposedException, got " + (seen != null ? seen.ToString() : last.ToString()));
        }

        [Case]
        public static void FinalizerClosesAForgottenClient()
        {
            string id = Server.NewId();
            // Created and dropped on a thread that has exited, so no stack slot keeps it alive
            // (Mono scans stacks conservatively).
            var t = new Thread(() => Leak(id));
            t.Start();
            t.Join();
            for (int i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            var seen = Server.Recorded(id);
            Check.Equal(1001, seen.Key, "code the server received from the finalizer");
            Check.Equal("WsClient finalized without Dispose", seen.Value, "reason");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Leak(string id)
        {
            var client = WsClient.Connect(Server.Url("/record/" + id));
            client.Send("hello");
            Check.Equal("hello", Server.Next(client, new WsMessage()).GetText(), "echo");
        }
    }
}
