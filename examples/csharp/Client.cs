// The seed client in C#: connect to the trainer, send one JSON message, print the reply, close.
// The same WsClient calls work unchanged in a Unity script (bindings/unity).
//
//     mono Client.exe [PORT]        (default 8001; connects to ws://127.0.0.1:PORT/env/0)
//
// Build: mcs -r:Wsbridge.dll Client.cs (`make demo` does it, with Wsbridge.dll compiled from
// bindings/unity/Runtime and libwsbridge.so beside it).

using System;
using Wsbridge;

internal static class Client
{
    private static int Main(string[] args)
    {
        string port = args.Length > 0 ? args[0] : "8001";
        string url = "ws://127.0.0.1:" + port + "/env/0";
        try
        {
            using (var client = WsClient.Connect(url, new WsOptions { ConnectTimeoutMs = 5000 }))
            {
                Console.WriteLine("client: connected to " + url + " (wsbridge " + WsRuntime.Version + ", C# on Mono)");

                const string message = "{\"message\": \"Message from Client\", \"number\": 256, \"bool\": true}";
                client.Send(message);
                Console.WriteLine("client: sent     " + message);

                var reply = new WsMessage();
                WsReceiveResult got = client.Receive(reply, 5000);
                if (got == WsReceiveResult.Timeout)
                {
                    Console.Error.WriteLine("client: no reply within 5000 ms");
                    return 1;
                }
                if (got == WsReceiveResult.Closed)
                {
                    Console.Error.WriteLine("client: the trainer closed the connection: " + client.CloseStatus +
                                            (client.CloseError != null ? " (" + client.CloseError.Message + ")" : ""));
                    return 1;
                }
                Console.WriteLine("client: received " + reply.GetText());

                client.Close(WsCloseCode.Normal, "done", 2000);
                Console.WriteLine("client: closed");
            }
            return 0;
        }
        catch (WsException e)
        {
            Console.Error.WriteLine("client: " + e.Message);
            return 1;
        }
    }
}
