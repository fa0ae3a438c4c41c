// Unity Test Framework tests of what a game loop relies on, runnable in the editor (Window >
// General > Test Runner, EditMode or PlayMode; add "com.wsbridge.unity" to "testables" in
// Packages/manifest.json) and, with Debian's NUnit, under Mono by `make test-unity`. They need no
// trainer: a refused connect, a trainer that accepts TCP and never answers (a TcpListener), and
// programmer errors. Plain [Test] methods that run frames themselves, so the same code runs in
// the editor and in nunit-console.

using System;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Wsbridge.Tests
{
    public class GameLoopTests
    {
        // A liveness bound for what must happen, not a timing assertion.
        private const int Patience = 15000;

        private static int DeadPort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }

        // Frames of a game loop: `update` once per frame until `done`.
        private static void Frames(Action update, Func<bool> done)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                update();
                if (done()) return;
                Assert.Less(clock.ElapsedMilliseconds, Patience, "nothing within " + Patience + " ms of frames");
                Thread.Sleep(1); // the rest of the frame
            }
        }

        [Test]
        public void RefusedConnectArrivesAsCloseNotAsException()
        {
            using (var client = WsClient.StartConnect("ws://127.0.0.1:" + DeadPort() + "/env/0"))
            {
                var message = new WsMessage();
                WsSendResult sent = client.Send("hello"); // queued while connecting, or Closed if already refused
                Assert.That(sent == WsSendResult.Queued || sent == WsSendResult.Closed, sent.ToString());
                Assert.AreEqual(WsReceiveResult.Closed, client.Receive(message, Patience));
                Assert.AreEqual(WsMessageType.Close, message.Type);
                Assert.IsNotNull(client.CloseError);
                Assert.AreEqual(WsResult.ConnectFailed, client.CloseError.Result);
                Assert.AreEqual(WsSendResult.Closed, client.Send("after"));
                Assert.IsFalse(client.TrySend("after"));
                Assert.AreEqual(WsReceiveResult.Closed, client.Receive(message, 0));
            }
        }

        [Test]
        public void ConnectionRaisesErrorThenClosed()
        {
            string events = "";
            var connection = new WsConnection("ws://127.0.0.1:" + DeadPort() + "/env/0");
            connection.Opened += () => events += "open|";
            connection.Error += e => events += "error " + e.Result + "|";
            connection.Closed += (status, error) => events += "closed";
            Task connected = connection.ConnectAsync();
            Frames(() => connection.Update(), () => connection.HasEnded);
            Assert.AreEqual("error ConnectFailed|closed", events);
            Assert.IsTrue(connected.IsFaulted);
            Assert.AreEqual(WsSendResult.Closed, connection.Send("late"));
        }

        [Test]
        public void CloseAsyncNeverWaitsForASilentTrainer()
        {
            var silent = new TcpListener(IPAddress.Loopback, 0); // accepts TCP, never answers the upgrade
            silent.Start();
            try
            {
                var client = WsClient.StartConnect("ws://127.0.0.1:" + ((IPEndPoint)silent.LocalEndpoint).Port + "/env/0");
                Assert.AreEqual(WsState.Connecting, client.State);
                Task<bool> closing = client.CloseAsync(WsCloseCode.GoingAway, "scene unloaded", -1);
                Assert.AreEqual(WsState.Closed, client.State, "closed for the game at once");
                Assert.AreEqual(WsSendResult.Closed, client.Send("late"));
                Assert.IsTrue(closing.Wait(Patience), "abandoning a connect completes in the background");
                client.Dispose();
            }
            finally
            {
                silent.Stop();
            }
        }

        [Test]
        public void ProgrammerErrorsThrow()
        {
            var e = Assert.Throws<WsException>(() => WsClient.StartConnect("http://127.0.0.1/x"));
            Assert.AreEqual(WsResult.InvalidArgument, e.Result);
            StringAssert.Contains("http://127.0.0.1/x", e.Message);
            var client = WsClient.StartConnect("ws://127.0.0.1:" + DeadPort() + "/env/0");
            client.Dispose();
            Assert.Throws<ObjectDisposedException>(() => client.Send("x"));
            Assert.Throws<ObjectDisposedException>(() => client.TryReceive(new WsMessage()));
            Assert.Throws<ArgumentNullException>(() => new WsConnection(null));
        }
    }
}
