// Uses WsbridgeConnection (on the same GameObject) the way the project's seed client does:
// once open, sends {"message": "Message from Client", "number": 256, "bool": true} and logs the
// trainer's reply. Run examples/python/trainer.py --port 8001 and press Play.

using UnityEngine;

namespace Wsbridge.Samples
{
    [RequireComponent(typeof(WsbridgeConnection))]
    public sealed class SeedClient : MonoBehaviour
    {
        private WsbridgeConnection connection;

        private void Awake()
        {
            connection = GetComponent<WsbridgeConnection>();
            connection.Opened += OnOpened;
            connection.MessageReceived += OnMessage;
            connection.Closed += OnClosed;
        }

        private void OnOpened()
        {
            connection.Send("{\"message\": \"Message from Client\", \"number\": 256, \"bool\": true}");
        }

        private void OnMessage(WsMessage message)
        {
            if (message.Type == WsMessageType.Text) Debug.Log("trainer says: " + message.GetText(), this);
            else Debug.Log("trainer sent " + message.Count + " bytes", this);
        }

        private void OnClosed(WsCloseStatus? status, WsException error)
        {
            Debug.Log("connection closed: " + (status.HasValue ? status.Value.ToString() : "no close status") +
                      (error != null ? " (" + error.Message + ")" : ""), this);
        }
    }
}
