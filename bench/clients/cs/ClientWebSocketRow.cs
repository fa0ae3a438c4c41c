// The Mono ClientWebSocket row: System.Net.WebSockets.ClientWebSocket, what the most used Unity
// WebSocket library (NativeWebSocket) runs on outside WebGL. Default options, async/await as
// documented, a message reassembled from ReceiveAsync until EndOfMessage.

using System;
using System.Net.WebSockets;
using System.Threading;
using System.Threading.Tasks;

namespace Bench
{
    sealed class ClientWebSocketConn : IConn
    {
        readonly ClientWebSocket ws;

        public ClientWebSocketConn(ClientWebSocket ws) { this.ws = ws; }

        public Task SendAsync(byte[] data, int count)
        {
            return ws.SendAsync(new ArraySegment<byte>(data, 0, count), WebSocketMessageType.Binary, true, CancellationToken.None);
        }

        public async Task<ArraySegment<byte>> ReceiveAsync(byte[] buffer)
        {
            int got = 0;
            for (;;)
            {
                if (got == buffer.Length) throw new BenchFailure("a message does not fit the " + buffer.Length + "-byte buffer");
                WebSocketReceiveResult r = await ws.ReceiveAsync(new ArraySegment<byte>(buffer, got, buffer.Length - got), CancellationToken.None);
                if (r.MessageType == WebSocketMessageType.Close) throw new BenchFailure("the server closed the connection");
                got += r.Count;
                if (r.EndOfMessage) return new ArraySegment<byte>(buffer, 0, got);
            }
        }

        public Task CloseAsync()
        {
            return ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        }

        public void Abort()
        {
            ws.Abort();
            ws.Dispose();
        }
    }

    sealed class ClientWebSocketRow : IRow
    {
        public async Task<IConn> OpenAsync(string url)
        {
            var ws = new ClientWebSocket();
            await ws.ConnectAsync(new Uri(url), CancellationToken.None);
            return new ClientWebSocketConn(ws);
        }

        static int Main(string[] args)
        {
            return Harness.Run(new ClientWebSocketRow(), args);
        }
    }
}
