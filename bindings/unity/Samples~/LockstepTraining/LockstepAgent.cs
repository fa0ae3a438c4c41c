// Lockstep training: every physics step the agent sends its observation and waits (at most
// actionTimeoutMs) for the trainer's action, so the game advances exactly as fast as the
// trainer decides. Each observation carries its step number and the trainer echoes it with
// the action: a reply that arrives after its timeout is recognised as stale and skipped.
//
// The trainer side, with Python websockets (examples/python/trainer.py answers the same way):
//
//     async for raw in ws:
//         obs = json.loads(raw)
//         await ws.send(json.dumps({"step": obs["step"], "move": policy(obs)}))
//
// Blocking the main thread is what lockstep means; for a game that must keep rendering while
// the trainer thinks, poll with TryReceive in Update instead (see the Main-thread events sample).

using System;
using UnityEngine;

namespace Wsbridge.Samples
{
    public sealed class LockstepAgent : MonoBehaviour
    {
        [SerializeField] private string url = "ws://127.0.0.1:8001/env/0";
        [SerializeField] private int connectTimeoutMs = 5000;
        [SerializeField] private int actionTimeoutMs = 2000;
        [SerializeField] private float speed = 2f;

        [Serializable]
        private struct Observation
        {
            public int step;
            public Vector3 position;
            public Vector3 velocity;
        }

        [Serializable]
        private struct AgentAction
        {
            public int step;
            public Vector2 move;
        }

        private readonly WsMessage reply = new WsMessage();
        private WsClient client;
        private Rigidbody body;
        private int step;

        private void Start()
        {
            body = GetComponent<Rigidbody>();
            try
            {
                // Blocking once at the start of an episode is fine for training.
                client = WsClient.Connect(url, new WsOptions { ConnectTimeoutMs = connectTimeoutMs });
            }
            catch (WsException e)
            {
                Debug.LogError("no trainer at " + url + ": " + e.Message, this);
                enabled = false;
            }
        }

        private void FixedUpdate()
        {
            if (client == null) return;
            step++;
            var observation = new Observation
            {
                step = step,
                position = transform.position,
                velocity = body != null ? Velocity(body) : Vector3.zero,
            };
            client.Send(JsonUtility.ToJson(observation)); // Closed if the link is lost: the Close comes through Receive

            AgentAction action;
            if (!WaitForAction(out action))
            {
                Debug.LogWarning("step " + step + ": no action within " + actionTimeoutMs + " ms; the agent stands still", this);
                return;
            }
            var move = new Vector3(action.move.x, 0f, action.move.y) * speed;
            if (body != null) SetVelocity(body, new Vector3(move.x, Velocity(body).y, move.z));
            else transform.position += move * Time.fixedDeltaTime;
        }

        // The action for the current step, skipping stale replies to steps that timed out.
        private bool WaitForAction(out AgentAction action)
        {
            action = default(AgentAction);
            float deadline = Time.realtimeSinceStartup + actionTimeoutMs / 1000f;
            while (true)
            {
                int left = Mathf.Max(0, (int)((deadline - Time.realtimeSinceStartup) * 1000f));
                WsReceiveResult got = client.Receive(reply, left);
                if (got == WsReceiveResult.Timeout) return false;
                if (got != WsReceiveResult.Message) // Closed (NotSupported only in WebGL, which cannot block)
                {
                    Debug.Log("trainer closed the episode: " + client.CloseStatus +
                              (client.CloseError != null ? " (" + client.CloseError.Message + ")" : ""), this);
                    client.Dispose();
                    client = null;
                    enabled = false;
                    return false;
                }
                action = JsonUtility.FromJson<AgentAction>(reply.GetText());
                if (action.step == step) return true;
            }
        }

        // Unity 6 renamed Rigidbody.velocity to linearVelocity (the old name is obsolete there).
        private static Vector3 Velocity(Rigidbody rb)
        {
#if UNITY_6000_0_OR_NEWER
            return rb.linearVelocity;
#else
            return rb.velocity;
#endif
        }

        private static void SetVelocity(Rigidbody rb, Vector3 v)
        {
#if UNITY_6000_0_OR_NEWER
            rb.linearVelocity = v;
#else
            rb.velocity = v;
#endif
        }

        private void OnDestroy()
        {
            if (client == null) return;
            client.CloseAsync(WsCloseCode.Normal, "episode over", 500); // never blocks the frame
            client = null;
        }
    }
}
