// UWsBridgeAcademy: the world subsystem that owns one env (wsbridge::Env) per trainer slot and
// steps the UWsBridgeAgentComponents registered on it.
#pragma once

#include "CoreMinimal.h"
#include "Subsystems/WorldSubsystem.h"

THIRD_PARTY_INCLUDES_START
#include "wsbridge_env.hpp"
THIRD_PARTY_INCLUDES_END

#include <memory>
#include <string>
#include <vector>

#include "WsBridgeAcademy.generated.h"

class UWsBridgeAgentComponent;

/**
 * Steps the world's agents for the trainer, like ML-Agents' Academy. Agents register in
 * BeginPlay; at the academy's first tick it opens one env per Url/Slot with every agent
 * registered there (their count and spaces go into the hello; agents that register later are
 * not trained until the level is loaded again). Then, once per frame on the game thread:
 *
 * 1. if the trainer's last request was a step, answer it now that the world has simulated the
 *    frame: each agent's observations, reward and episode end, one submit;
 * 2. read the next request (never waiting, or up to LockstepTimeoutMs in lockstep): a reset
 *    resets every agent (OnEpisodeBegin) and is answered at once; a step resets the agents the
 *    trainer flagged and hands the others their actions (OnActionReceived).
 *
 * Reconnecting to the same slot with backoff and the protocol itself are the library's (see
 * wsb_env_open). An agent destroyed while training keeps its row: it answers its last
 * observation with the episode truncated. The envs close without blocking when the world ends.
 *
 * C++ API: GetWorld()->GetSubsystem<UWsBridgeAcademy>()->FindEnv(Url, Slot) gives the
 * wsbridge::Env for code that wants the protocol directly (see wsbridge_env.hpp).
 */
UCLASS()
class WSBRIDGE_API UWsBridgeAcademy : public UTickableWorldSubsystem
{
	GENERATED_BODY()

public:
	/** Adds an agent to the env of its Url and Slot (before the first tick of the world). */
	void Register(UWsBridgeAgentComponent* Agent);
	/** Removes an agent; while its env runs, its row answers as truncated. */
	void Unregister(UWsBridgeAgentComponent* Agent);

	/** The env of Url and Slot, or null before it opens or after it ended. */
	wsbridge::Env* FindEnv(const FString& Url, int32 Slot);

	/** Whether any env of this world is connected and training. */
	UFUNCTION(BlueprintPure, Category = "WsBridge")
	bool IsTraining() const;

	virtual void Deinitialize() override;
	virtual void Tick(float DeltaTime) override;
	virtual TStatId GetStatId() const override;

private:
	/** One env and its agents, with every buffer a step needs (allocated once, at the open). */
	struct FAgentEnv
	{
		std::string Url;  // UTF-8, Url/env/Slot
		std::vector<UWsBridgeAgentComponent*> Agents;  // row i; null once the agent left
		wsbridge::Env Session;
		bool bOpened = false;
		bool bEnded = false;
		bool bPendingAnswer = false;  // a step's actions were applied; answer next frame
		bool bContinuous = false;
		int32 ObservationSize = 0;
		int32 ActionSize = 0;
		int32 LockstepTimeoutMs = 0;
		bool bLockstep = false;
		TArray<float> Observations;          // one agent's, reused
		TArray<float> ContinuousActions;     // one agent's, reused
		TArray<int32> DiscreteActions;       // one agent's, reused
		std::vector<std::int64_t> WireDiscrete;  // the wire's int64 items of one agent
		std::vector<float> LastObservations;     // every row, for agents that left
	};

	bool Open(FAgentEnv& Group);
	void Step(FAgentEnv& Group);
	void Reset(FAgentEnv& Group, bool bAll);
	void ApplyActions(FAgentEnv& Group, bool bRepeat);
	bool Answer(FAgentEnv& Group);
	void End(FAgentEnv& Group, const wsbridge::Error& Error);

	std::vector<std::unique_ptr<FAgentEnv>> Envs;
};
