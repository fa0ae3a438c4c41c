// What a game loop sees (issue 15): no exception for a network event (a lost link, a trainer
// that closed), the lockstep Receive that tells a close from a message, a close that never
// blocks the frame against a frozen trainer, and the event/async core of the Unity component
// (WsConnection) driven frame by frame as Update would.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Wsbridge.Tests
{
    public static class GameLoopTests
    {
        private static string Misbehave(string path)
        {
            return "ws://127.0.0.1:" + Server.Env("WSB_MISBEHAVE_PORT") + path;
        }

        // Runs frames (a game's Update: `frame`, then the rest of the frame's time) until `done`.
        // The short pause stands for the rendering of a frame; the loop waits on nothing.
        private static void Frames(Action frame, Func<bool> done, string what)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                frame();
                if (done()) return;
                if (clock.ElapsedMilliseconds > Server.Patience)
                    throw new TestFailure(what + ": not within " + Server.Patience + " ms of frames");
                Thread.Sleep(1);
            }
        }

        [Case]
        public static void SendOnALostLinkReturnsClosedBeforeTheClosePolled()
        {
            using (var client = WsClient.Connect(Misbehave("/drop")))
            {
                var message = new WsMessage();
                var results = new List<WsSendResult>();
                // Every frame sends; the close is not polled until the link is known lost.
                Frames(() => results.Add(client.Send("obs")), () => client.State == WsState.Closed, "the loss of /drop");
                Check.Equal(WsSendResult.Closed, client.Send("obs"), "Send on the lost link, close not yet polled");
                Check.Equal(WsSendResult.Closed, client.Send(new byte[] { 1, 2 }), "Send(byte[]) on the lost link");
                Check.False(client.TrySend("obs"), "TrySend on the lost link");
                Check.False(client.Flush(0), "Flush on the lost link");
                foreach (var r in results) Check.True(r == WsSendResult.Queued || r == WsSendResult.Closed, "frame send result " + r);
                Check.True(client.TryReceive(message), "the Close message reaches the game through TryReceive");
                Check.Equal(WsMessageType.Close, message.Type, "Close");
                Check.True(client.CloseError != null, "the loss is an error");
                Check.False(client.TryReceive(message), "once");
                Check.Equal(WsSendResult.Closed, client.Send("obs"), "Send after the Close was polled");
                Check.Equal(WsReceiveResult.Closed, client.Receive(message, 0), "lockstep Receive after the loss");
                Check.Equal("", client.Subprotocol, "Subprotocol after the loss");
            }
        }

        [Case]
        public static void LockstepReceiveNeverMistakesACloseForAMessage()
        {
            using (var client = WsClient.Connect(Server.Url("/close/4003/bye")))
            {
                var message = new WsMessage();
                Check.Equal(WsReceiveResult.Message, client.Receive(message, Server.Patience), "the message before the close");
                Check.Equal("closing", message.GetText(), "its text");
                Check.Equal(WsReceiveResult.Closed, client.Receive(message, Server.Patience), "the close");
                Check.Equal((ushort)4003, client.CloseStatus.Value.Code, "code");
                for (int i = 0; i < 3; i++)
                    Check.Equal(WsReceiveResult.Closed, client.Receive(message, Server.Patience), "every later Receive");
            }
        }

        [Case]
        public static void CloseAsyncReturnsAtOnceAgainstAFrozenTrainer()
        {
            string id = Server.NewId();
            // Reads nothing until /resume: the close cannot be answered before that.
            var client = WsClient.Connect(Misbehave("/freeze/" + id + "?id=" + id));
            // With no time limit a blocking Close would wait until the trainer reads again; this
            // returns, and the library finishes the handshake in the background.
            Task<bool> closing = client.CloseAsync(4001, "level unloaded", -1);
            Check.True(closing.IsCompleted && closing.Result, "CloseAsync hands the close to the library and returns");
            Check.Equal(WsState.Closed, client.State, "the client is closed for the game at once");
            Check.Equal(WsSendResult.Closed, client.Send("late"), "Send after CloseAsync");
            Check.Equal(WsReceiveResult.Closed, client.Receive(new WsMessage(), 0), "Receive after CloseAsync");
            client.Dispose(); // nothing left to drop: the library keeps the closing connection

            using (var resume = WsClient.Connect(Misbehave("/resume/" + id)))
                Check.Equal("resumed", Server.Next(resume, new WsMessage()).GetText(), "resume");
            // The trainer read our close frame only now, after CloseAsync returned: the handshake
            // finished in the background, with our code and reason.
            using (var report = WsClient.Connect(Misbehave("/report/" + id)))
            {
                string seen = Server.Next(report, new WsMessage()).GetText();
                Check.Contains("4001", seen, "the trainer saw the close code");
                Check.Contains("level unloaded", seen, "and the reason");
            }
            Check.True(WsRuntime.Shutdown(Server.Patience), "nothing left unfinished for Shutdown");
        }

        [Case]
        public static void DisposeNeverWaitsForAFrozenTrainerAndShutdownReportsIt()
        {
            var client = WsClient.Connect(Misbehave("/freeze/" + Server.NewId()));
            client.DisposeCloseTimeoutMs = -1; // a blocking close would wait for ever
            client.Dispose();
            Check.Equal(WsState.Closed, client.State, "disposed");
            Check.False(WsRuntime.Shutdown(300), "Shutdown waited for the background close, which could not complete");
            Check.Equal("", string.Join(", ", Server.NativeThreads()), "wsbridge threads left after Shutdown");
        }

        [Case]
        public static void CloseAsyncWithABadCodeFaultsTheTask()
        {
            var client = WsClient.Connect(Server.Url("/echo"));
            Task<bool> closing = client.CloseAsync(999, null, 1000);
            var e = Check.Throws<AggregateException>(() => closing.Wait(Server.Patience), "the task faults");
            Check.True(e.InnerException is WsException && ((WsException)e.InnerException).Result == WsResult.InvalidArgument, "InvalidArgument: " + e.InnerException);
            Check.Contains("999", e.InnerException.Message, "the message names the code");
            client.Dispose();
        }

        // ---- WsConnection: the component's core ---------------------------------------------

        [Case]
        public static void ConnectionRaisesOpenMessageCloseInOrder()
        {
            var seen = new List<string>();
            using (var connection = new WsConnection(Server.Url("/close/4002/done")))
            {
                connection.Opened += () => seen.Add("open");
                connection.MessageReceived += m => seen.Add("message " + m.GetText());
                connection.Error += e => seen.Add("error " + e.Result);
                connection.Closed += (status, error) => seen.Add("close " + status + " " + (error == null ? "clean" : error.Result.ToString()));
                Task connected = connection.ConnectAsync();
                Frames(() => connection.Update(), () => connection.HasEnded, "open, message, close");
                Check.True(connected.IsCompleted && !connected.IsFaulted, "ConnectAsync completed");
                Check.Equal("open|message closing|close 4002 done clean", string.Join("|", seen), "events");
                Check.False(connection.IsOpen, "not open after the close");
                Check.Equal(WsSendResult.Closed, connection.Send("late"), "Send after the close");
            }
        }

        [Case]
        public static void ConnectionReportsARefusedConnectAsErrorThenClose()
        {
            var seen = new List<string>();
            var connection = new WsConnection("ws://127.0.0.1:" + Server.DeadPort() + "/env/0");
            connection.Opened += () => seen.Add("open");
            connection.Error += e => seen.Add("error " + e.Result);
            connection.Closed += (status, error) => seen.Add("close");
            Task connected = connection.ConnectAsync();
            Frames(() => connection.Update(), () => connection.HasEnded, "the refused connect");
            Check.Equal("error ConnectFailed|close", string.Join("|", seen), "events");
            Check.True(connected.IsFaulted, "ConnectAsync faulted");
            Check.True(connected.Exception.InnerException is WsException &&
                       ((WsException)connected.Exception.InnerException).Result == WsResult.ConnectFailed, "with ConnectFailed");
        }

        [Case]
        public static void ReceiveAsyncCompletesInUpdate()
        {
            var connection = new WsConnection(Server.Url("/echo"));
            int events = 0;
            connection.MessageReceived += m => events++;
            Task connected = connection.ConnectAsync();
            Frames(() => connection.Update(), () => connected.IsCompleted, "open");
            var into = new WsMessage();
            Task<WsReceiveResult> next = connection.ReceiveAsync(into);
            Check.Equal(WsSendResult.Queued, connection.Send("ping"), "send");
            Frames(() => connection.Update(), () => next.IsCompleted, "the echo");
            Check.Equal(WsReceiveResult.Message, next.Result, "ReceiveAsync result");
            Check.Equal("ping", into.GetText(), "into the given message");
            Check.Equal(0, events, "a message taken by ReceiveAsync is not also an event");

            Task<WsReceiveResult> pending = connection.ReceiveAsync(into);
            Task<bool> closed = connection.CloseAsync(WsCloseCode.Normal, "bye", Server.Patience);
            Check.True(pending.IsCompleted, "CloseAsync completes a pending ReceiveAsync");
            Check.Equal(WsReceiveResult.Closed, pending.Result, "with Closed");
            Check.True(closed.Wait(Server.Patience) && closed.Result, "the background close handshake");
            Check.Equal(WsReceiveResult.Closed, connection.ReceiveAsync(into).Result, "ReceiveAsync after the close");
        }

        [Case]
        public static void ConnectionUpdateAllocatesNothingPerMessage()
        {
            const int Total = 20000;
            var connection = new WsConnection(Server.Url("/echo"), null, new WsMessage(64));
            long received = 0, bytes = 0;
            connection.MessageReceived += m => { received++; bytes += m.Count; };
            Task connected = connection.ConnectAsync();
            Frames(() => connection.Update(), () => connected.IsCompleted, "open");
            var payload = new ArraySegment<byte>(Server.Pattern(32, 3));
            // Warm up (JIT), then measure a steady stream: send a batch, Update until it is back.
            for (int round = 0; round < 2; round++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                long goal = received + Total;
                // Frames without Frames(): its closures would be the test's own allocations.
                long frames = 0;
                while (received < goal)
                {
                    for (int i = 0; i < 100; i++) connection.Send(payload);
                    long batch = received + 100;
                    while (received < batch)
                    {
                        connection.Update();
                        if (++frames > 10 * Server.Patience) throw new TestFailure("echoes stopped at " + received);
                        if (received < batch) Thread.Sleep(1);
                    }
                }
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                if (round == 1)
                {
                    Console.WriteLine("WsConnection.Update: " + allocated + " bytes allocated over " + Total + " messages");
                    Check.True(allocated < 16 * 1024, allocated + " bytes allocated over " + Total + " messages");
                }
            }
            Check.Equal(received * 32, bytes, "every message whole");
            connection.Dispose();
        }
    }
}
