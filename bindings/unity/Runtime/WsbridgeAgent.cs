// The agent component (Unity only), as ML-Agents' Agent: subclass it, override
// CollectObservations, OnActionReceived and OnEpisodeBegin, and call AddReward/SetReward,
// EndEpisode (terminated) or EpisodeInterrupted (truncated). It registers in Start with the
// scene's WsbridgeAcademy, which steps every agent over one connection. The hooks and the
// bookkeeping are EnvAgent's (EnvAgent.cs, plain C#, tested under Mono); this file forwards to
// it. Compiled only by Unity (UNITY_5_3_OR_NEWER).

#if UNITY_5_3_OR_NEWER
using UnityEngine;

namespace Wsbridge
{
    public abstract class WsbridgeAgent : MonoBehaviour
    {
        [Tooltip("The academy that steps this agent; empty: the scene's (WsbridgeAcademy.Instance).")]
        [SerializeField] private WsbridgeAcademy academy;

        private Bridge bridge;

        private Bridge Core { get { return bridge ?? (bridge = new Bridge(this)); } }

        /// <summary>Called once when the env opens.</summary>
        public virtual void Initialize()
        {
        }

        /// <summary>The trainer resets this agent: put it back at a start state (EpisodeSeed: reseed if not -1).</summary>
        public virtual void OnEpisodeBegin()
        {
        }

        /// <summary>Write this agent's observation (every item of the observation space).</summary>
        public abstract void CollectObservations(ObservationWriter sensor);

        /// <summary>Apply the trainer's action (the physics step after this FixedUpdate simulates it).</summary>
        public abstract void OnActionReceived(ActionBuffers actions);

        public void AddReward(float increment) { Core.AddReward(increment); }
        public void SetReward(float value) { Core.SetReward(value); }
        public void EndEpisode() { Core.EndEpisode(); }
        public void EpisodeInterrupted() { Core.EpisodeInterrupted(); }
        public void SetInfo(string json) { Core.SetInfo(json); }

        public int AgentIndex { get { return Core.AgentIndex; } }
        public int StepCount { get { return Core.StepCount; } }
        public int CompletedEpisodes { get { return Core.CompletedEpisodes; } }
        public float CumulativeReward { get { return Core.CumulativeReward; } }
        public long EpisodeSeed { get { return Core.EpisodeSeed; } }

        /// <summary>The plain C# agent the academy steps.</summary>
        public EnvAgent Agent { get { return Core; } }

        protected virtual void Start()
        {
            WsbridgeAcademy target = academy != null ? academy : WsbridgeAcademy.Instance;
            if (target == null)
            {
                Debug.LogError("wsbridge: " + name + " found no WsbridgeAcademy: add one to the scene", this);
                return;
            }
            target.Register(Core);
        }

        private sealed class Bridge : EnvAgent
        {
            private readonly WsbridgeAgent owner;

            internal Bridge(WsbridgeAgent owner)
            {
                this.owner = owner;
            }

            public override void Initialize() { owner.Initialize(); }
            public override void OnEpisodeBegin() { owner.OnEpisodeBegin(); }
            public override void CollectObservations(ObservationWriter sensor) { owner.CollectObservations(sensor); }
            public override void OnActionReceived(ActionBuffers actions) { owner.OnActionReceived(actions); }
        }
    }
}
#endif
