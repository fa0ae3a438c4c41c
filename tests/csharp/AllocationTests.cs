// The zero-allocation path: a game that reuses one WsMessage (and sends from reused arrays or
// strings) allocates nothing per message. Measured with the GC's own per-thread counter of
// allocated bytes over 100,000 messages.

using System;

namespace Wsbridge.Tests
{
    public static class AllocationTests
    {
        private const int Total = 100000;
        private const int Batch = 500;
        // Room for the few times the WsMessage buffer grows; one allocation per message would
        // be at least 100,000 x 24 bytes.
        private const long Bound = 16 * 1024;

        [Case]
        public static void ReceiveWithReusedBufferAllocatesNothing()
        {
            using (var client = WsClient.Connect(Server.Url("/echo")))
            {
                byte[] payload = Server.Pattern(2048, 1);
                string[] texts = { "obs", "{\"obs\": [0.1, 0.2, 0.3], \"reward\": 1.0}", "ä✓🎮" };
                var message = new WsMessage(16);
                RunBatch(client, payload, texts, message, 0); // warm up: JIT, first buffer growths
                message = new WsMessage(16);

                int collections = GC.CollectionCount(0);
                long before = GC.GetAllocatedBytesForCurrentThread();
                long checksum = 0;
                for (int start = 0; start < Total; start += Batch)
                    checksum += RunBatch(client, payload, texts, message, start);
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                collections = GC.CollectionCount(0) - collections;

                Console.WriteLine("allocated " + allocated + " bytes over " + Total + " messages (" +
                                  (double)allocated / Total + " per message), " + collections +
                                  " gen0 collections, buffer " + message.Capacity + " bytes, checksum " + checksum);
                Check.True(allocated < Bound, allocated + " bytes allocated over " + Total + " messages (bound " + Bound + ")");
                Check.Equal(2048, message.Capacity, "the buffer grew to the largest message size, rounded to a power of two");
            }
        }

        // Sends one batch (text and binary of varying sizes), then drains it: TryReceive while
        // messages wait, Receive(timeout) when the next one is still on its way. Returns a
        // checksum of what came back after checking every message.
        private static long RunBatch(WsClient client, byte[] payload, string[] texts, WsMessage message, int start)
        {
            for (int i = start; i < start + Batch; i++)
            {
                if (i % 4 == 3) client.Send(texts[i % texts.Length]);
                else client.Send(new ArraySegment<byte>(payload, 0, Size(i)));
            }
            long sum = 0;
            for (int i = start; i < start + Batch; i++)
            {
                if (!client.TryReceive(message) && client.Receive(message, Server.Patience) != WsReceiveResult.Message)
                    throw new TestFailure("message " + i + " did not come back");
                bool text = i % 4 == 3;
                if (message.Type != (text ? WsMessageType.Text : WsMessageType.Binary))
                    throw new TestFailure("message " + i + " came back as " + message.Type);
                int expected = text ? System.Text.Encoding.UTF8.GetByteCount(texts[i % texts.Length]) : Size(i);
                if (message.Count != expected)
                    throw new TestFailure("message " + i + " has " + message.Count + " bytes, expected " + expected);
                if (!text && expected > 0 && message.Buffer[expected - 1] != payload[expected - 1])
                    throw new TestFailure("message " + i + " has wrong content");
                sum += message.Count;
            }
            return sum;
        }

        private static int Size(int i)
        {
            return i % 1000 == 998 ? 2000 : i % 200; // 998: a binary message (every 4th is text)
        }
    }
}
