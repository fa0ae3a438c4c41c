// The wsbridge C# row: the Unity binding (bindings/unity/Runtime, compiled in) under Mono, used
// as a lockstep training loop uses it: Send, then Receive(message, -1) into one reused WsMessage
// per connection (read in place, no copy added), default options. At the send queue cap
// (TrySend false) it waits with Flush and sends again, as the C row does, and counts the waits.

using System;
using System.Threading.Tasks;
using Wsbridge;

namespace Bench
{
    sealed class WsbridgeConn : IConn
    {
        static readonly Task Done = Task.FromResult(0);
        readonly WsClient client;
        readonly WsMessage message = new WsMessage();

        public WsbridgeConn(WsClient client) { this.client = client; }

        public Task SendAsync(byte[] data, int count)
        {
            var segment = new ArraySegment<byte>(data, 0, count);
            while (!client.TrySend(segment))
            {
                Retries.Add();
                if (!client.Flush(-1)) throw new BenchFailure("Flush(-1) returned false");
            }
            return Done;
        }

        public Task<ArraySegment<byte>> ReceiveAsync(byte[] scratch)
        {
            WsReceiveResult result = client.Receive(message, -1);
            if (result == WsReceiveResult.Closed) throw new BenchFailure("the connection closed: " + client.CloseError);
            if (result != WsReceiveResult.Message) throw new BenchFailure("Receive(-1) returned " + result);
            return Task.FromResult(message.Data);
        }

        public Task CloseAsync()
        {
            client.Close(WsCloseCode.Normal, null, 5000);
            client.Dispose();
            return Done;
        }

        public void Abort()
        {
            client.Close(WsCloseCode.Normal, null, 0);
            client.Dispose();
        }
    }

    sealed class WsbridgeRow : IRow
    {
        public Task<IConn> OpenAsync(string url)
        {
            return Task.FromResult<IConn>(new WsbridgeConn(WsClient.Connect(url)));
        }

        static int Main(string[] args)
        {
            return Harness.Run(new WsbridgeRow(), args);
        }
    }
}
