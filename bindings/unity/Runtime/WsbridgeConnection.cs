// A connection to a trainer as a component (Unity only): connects without blocking in OnEnable
// (or on Connect()), dispatches open / message / error / close from Update on the main thread,
// closes without blocking a frame on OnDisable/OnDestroy. The engine-free core is WsConnection
// (WsConnection.cs), tested under Mono; this file only ties it to Unity's lifecycle. Compiled
// only by Unity (UNITY_5_3_OR_NEWER).

#if UNITY_5_3_OR_NEWER
using System;
using System.Threading.Tasks;
using UnityEngine;

namespace Wsbridge
{
    [AddComponentMenu("wsbridge/Wsbridge Connection")]
    public sealed class WsbridgeConnection : MonoBehaviour
    {
        [Tooltip("ws://host:port/path of the trainer; the path tells this game apart from the others on the same port.")]
        [SerializeField] private string url = "ws://127.0.0.1:8001/env/0";
        [SerializeField] private int connectTimeoutMs = 5000;
        [Tooltip("Connect in OnEnable; otherwise call Connect() or ConnectAsync().")]
        [SerializeField] private bool connectOnEnable = true;
        [Tooltip("Upper bound on the messages handled in one frame, so a burst cannot stall a frame.")]
        [SerializeField] private int maxMessagesPerFrame = 256;
        [Tooltip("How long the background close handshake may take (the frame never waits for it).")]
        [SerializeField] private int closeTimeoutMs = 1000;
        [Tooltip("Reconnect after a lost link, with backoff and jitter (the native library does it; State is Reconnecting meanwhile and sends are queued).")]
        [SerializeField] private bool reconnect = false;
        [Tooltip("First delay after a loss, in ms; doubles after each failed attempt up to reconnectMaxDelayMs.")]
        [SerializeField] private int reconnectDelayMs = 100;
        [SerializeField] private int reconnectMaxDelayMs = 5000;
        [Tooltip("Give up when no connection has been open for this long, in ms (-1: never).")]
        [SerializeField] private int reconnectGiveUpMs = 60000;

        private WsConnection connection;

        /// <summary>The connection is open (raised in Update).</summary>
        public event Action Opened;
        /// <summary>A message arrived (raised in Update). The WsMessage is reused: read it during the call.</summary>
        public event Action<WsMessage> MessageReceived;
        /// <summary>With reconnect on: a new connection is open after a loss (raised in Update, with the facts).</summary>
        public event Action<string> Reconnected;
        /// <summary>The connection failed or was lost (raised in Update, before Closed).</summary>
        public event Action<WsException> Error;
        /// <summary>The connection ended: the peer's close status (null if none) and the error, if it failed.</summary>
        public event Action<WsCloseStatus?, WsException> Closed;

        public string Url
        {
            get { return url; }
            set { url = value; }
        }

        public bool IsOpen { get { return connection != null && connection.IsOpen; } }
        public WsState State { get { return connection == null ? WsState.Closed : connection.State; } }

        /// <summary>The engine-free connection behind this component (null before the first Connect).</summary>
        public WsConnection Connection { get { return connection; } }

        private void OnEnable()
        {
            if (connectOnEnable) Connect();
        }

        /// <summary>Starts connecting (returns at once); a malformed URL is logged, nothing is thrown.</summary>
        public void Connect()
        {
            if (connection != null && connection.IsActive) return;
            if (connection == null || connection.Url != url)
            {
                var options = new WsOptions { ConnectTimeoutMs = connectTimeoutMs, Reconnect = reconnect };
                if (reconnect)
                {
                    options.ReconnectDelayMs = reconnectDelayMs;
                    options.ReconnectMaxDelayMs = reconnectMaxDelayMs;
                    options.ReconnectGiveUpMs = reconnectGiveUpMs;
                }
                connection = new WsConnection(url, options);
                connection.Opened += () => { if (Opened != null) Opened(); };
                connection.Reconnected += facts => { if (Reconnected != null) Reconnected(facts); };
                connection.MessageReceived += m => { if (MessageReceived != null) MessageReceived(m); };
                connection.Error += e =>
                {
                    Debug.LogWarning("wsbridge: " + url + ": " + e.Message, this);
                    if (Error != null) Error(e);
                };
                connection.Closed += (s, e) => { if (Closed != null) Closed(s, e); };
            }
            try
            {
                connection.Open();
            }
            catch (WsException e)
            {
                Debug.LogException(e, this); // a malformed URL or a missing native library
            }
        }

        /// <summary>Connect() and a task completed in Update once open (faulted with the WsException if it fails).</summary>
        public Task ConnectAsync()
        {
            Connect();
            return connection.ConnectAsync();
        }

        /// <summary>The next message into `into`, completed in Update: Message or Closed.</summary>
        public Task<WsReceiveResult> ReceiveAsync(WsMessage into)
        {
            if (connection == null) return Task.FromResult(WsReceiveResult.Closed);
            return connection.ReceiveAsync(into);
        }

#if UNITY_2023_1_OR_NEWER
        /// <summary>ReceiveAsync as Unity's Awaitable (Unity 2023.1 and newer), resumed on the main thread.</summary>
        public async Awaitable<WsReceiveResult> ReceiveAwaitable(WsMessage into)
        {
            return await ReceiveAsync(into);
        }

        /// <summary>ConnectAsync as Unity's Awaitable.</summary>
        public async Awaitable ConnectAwaitable()
        {
            await ConnectAsync();
        }
#endif

        /// <summary>Queues a text message: Queued, QueueFull or Closed (never throws for a network event).</summary>
        public WsSendResult Send(string text)
        {
            return connection == null ? WsSendResult.Closed : connection.Send(text);
        }

        /// <summary>Queues a binary message: Queued, QueueFull or Closed.</summary>
        public WsSendResult Send(ArraySegment<byte> data, WsMessageType type = WsMessageType.Binary)
        {
            return connection == null ? WsSendResult.Closed : connection.Send(data, type);
        }

        private void Update()
        {
            if (connection != null) connection.Update(maxMessagesPerFrame);
        }

        /// <summary>Closes without blocking the frame: the handshake finishes in the background.</summary>
        public Task<bool> CloseAsync(ushort code = WsCloseCode.Normal, string reason = null)
        {
            if (connection == null) return Task.FromResult(true);
            return connection.CloseAsync(code, reason, closeTimeoutMs);
        }

        private void OnDisable()
        {
            CloseAsync(WsCloseCode.GoingAway, "component disabled");
        }
    }
}
#endif
