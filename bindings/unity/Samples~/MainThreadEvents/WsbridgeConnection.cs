// A connection to a trainer as a component: connects without blocking in Start, drains the
// messages in Update and raises C# events there, on the main thread, so handlers may touch any
// Unity API. Closes on OnDestroy, on Application.quitting and before an editor assembly reload.

using System;
using UnityEngine;

namespace Wsbridge.Samples
{
    public sealed class WsbridgeConnection : MonoBehaviour
    {
        [Tooltip("ws://host:port/path of the trainer; the path tells this game apart from the others on the same port.")]
        [SerializeField] private string url = "ws://127.0.0.1:8001/env/0";
        [SerializeField] private int connectTimeoutMs = 5000;
        [Tooltip("Upper bound on the messages handled in one frame, so a burst cannot stall a frame.")]
        [SerializeField] private int maxMessagesPerFrame = 256;

        /// <summary>The connection is open (raised in Update).</summary>
        public event Action Opened;

        /// <summary>A message arrived. The WsMessage is reused: read it during the call, do not keep it.</summary>
        public event Action<WsMessage> MessageReceived;

        /// <summary>The connection ended: the peer's close status (null if unknown) and the error, if it failed.</summary>
        public event Action<WsCloseStatus?, WsException> Closed;

        private readonly WsMessage message = new WsMessage();
        private WsClient client;
        private bool opened;

        public bool IsOpen
        {
            get { return client != null && opened; }
        }

        private void Start()
        {
            Application.quitting += CloseClient;
#if UNITY_EDITOR
            UnityEditor.AssemblyReloadEvents.beforeAssemblyReload += CloseClient;
#endif
            try
            {
                client = WsClient.StartConnect(url, new WsOptions { ConnectTimeoutMs = connectTimeoutMs });
            }
            catch (WsException e)
            {
                Debug.LogException(e, this); // a malformed URL: nothing was started
            }
        }

        private void Update()
        {
            if (client == null) return;
            if (!opened && client.State == WsState.Open)
            {
                opened = true;
                if (Opened != null) Opened();
            }
            for (int i = 0; i < maxMessagesPerFrame && client != null && client.TryReceive(message); i++)
            {
                if (message.Type == WsMessageType.Close)
                {
                    var status = client.CloseStatus;
                    var error = client.CloseError;
                    client.Dispose();
                    client = null;
                    opened = false;
                    if (error != null) Debug.LogWarning("wsbridge: " + url + ": " + error.Message, this);
                    if (Closed != null) Closed(status, error);
                    return;
                }
                if (MessageReceived != null) MessageReceived(message);
            }
        }

        /// <summary>Queues a text message (returns at once; sent in order once the connection is open).</summary>
        public void Send(string text)
        {
            if (client == null) throw new InvalidOperationException("not connected to " + url);
            client.Send(text);
        }

        /// <summary>Queues a binary message.</summary>
        public void Send(ArraySegment<byte> data)
        {
            if (client == null) throw new InvalidOperationException("not connected to " + url);
            client.Send(data);
        }

        private void OnDestroy()
        {
            Application.quitting -= CloseClient;
#if UNITY_EDITOR
            UnityEditor.AssemblyReloadEvents.beforeAssemblyReload -= CloseClient;
#endif
            CloseClient();
        }

        private void CloseClient()
        {
            if (client == null) return;
            // A short, bounded close handshake, then release; Dispose alone would not wait at all.
            try
            {
                client.Close(WsCloseCode.GoingAway, "game object destroyed", 100);
            }
            catch (WsException e)
            {
                Debug.LogException(e, this);
            }
            client.Dispose();
            client = null;
        }
    }
}
