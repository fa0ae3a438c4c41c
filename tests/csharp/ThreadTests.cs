// Several threads, each with its own connection; and one connection shared by a sending and a
// receiving thread (the library promises both).

using System;
using System.Collections.Generic;
using System.Threading;

namespace Wsbridge.Tests
{
    public static class ThreadTests
    {
        private const int Threads = 8;
        private const int Messages = 300;

        [Case]
        public static void EachThreadItsOwnConnection()
        {
            var failures = new List<string>();
            var threads = new List<Thread>();
            for (int t = 0; t < Threads; t++)
            {
                int index = t;
                var thread = new Thread(() =>
                {
                    try
                    {
                        Converse(index);
                    }
                    catch (Exception e)
                    {
                        lock (failures) failures.Add("thread " + index + ": " + e);
                    }
                });
                thread.Start();
                threads.Add(thread);
            }
            foreach (var thread in threads)
                Check.True(thread.Join(4 * Server.Patience), "a thread did not finish");
            Check.Equal("", string.Join("\n", failures), "failures");
        }

        private static void Converse(int index)
        {
            using (var client = WsClient.Connect(Server.Url("/client" + index)))
            {
                var message = new WsMessage(8);
                for (int i = 0; i < Messages; i++)
                {
                    if (i % 2 == 0)
                    {
                        string text = "thread " + index + " message " + i + " ✓";
                        client.Send(text);
                        Server.Next(client, message);
                        Check.Equal(WsMessageType.Text, message.Type, "type");
                        Check.Equal(text, message.GetText(), "echo");
                    }
                    else
                    {
                        byte[] data = Server.Pattern(i * 7, index * 1000 + i);
                        client.Send(data);
                        Server.Next(client, message);
                        Check.Equal(WsMessageType.Binary, message.Type, "type");
                        Check.Bytes(data, 0, data.Length, message, "echo");
                    }
                }
                Check.True(client.Close(WsCloseCode.Normal, "thread " + index + " done", Server.Patience), "close");
            }
        }

        [Case]
        public static void SendOnOneThreadReceiveOnAnother()
        {
            const int count = 2000;
            using (var client = WsClient.Connect(Server.Url("/echo")))
            {
                Exception failure = null;
                var sender = new Thread(() =>
                {
                    try
                    {
                        for (int i = 0; i < count; i++) client.Send("n" + i);
                    }
                    catch (Exception e)
                    {
                        failure = e;
                    }
                });
                sender.Start();
                var message = new WsMessage();
                for (int i = 0; i < count; i++)
                    Check.Equal("n" + i, Server.Next(client, message).GetText(), "message in order");
                Check.True(sender.Join(Server.Patience), "sender finished");
                Check.Equal<Exception>(null, failure, "sender failure");
            }
        }
    }
}
