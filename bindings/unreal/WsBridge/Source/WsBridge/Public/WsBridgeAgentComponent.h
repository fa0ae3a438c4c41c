// UWsBridgeAgentComponent: an agent trained by the Python trainer package (RemoteVectorEnv)
// through the env protocol (docs/env.md), with ML-Agents' hooks.
#pragma once

#include "Components/ActorComponent.h"
#include "CoreMinimal.h"
#include "WsBridgeEnvSettings.h"

#include "WsBridgeAgentComponent.generated.h"

/** The kind of an agent's actions. */
UENUM(BlueprintType)
enum class EWsBridgeActionType : uint8
{
	/** One choice among DiscreteBranches[0] (gymnasium Discrete). */
	Discrete,
	/** One choice per branch, branch i among DiscreteBranches[i] (MultiDiscrete). */
	MultiDiscrete,
	/** ContinuousActionSize floats in [ContinuousActionLow, ContinuousActionHigh] (Box float32). */
	Continuous,
};

/**
 * An agent: put it on an actor, give it its observation and action sizes, implement the hooks
 * in Blueprint or override the _Implementation functions in C++, press Play with a trainer
 * running (docs/train-unreal.md). UWsBridgeAcademy (a world subsystem) owns one env per
 * Url/Slot and steps every agent registered on it, in registration order: agent i is row i.
 *
 * Each decision: OnActionReceived(actions) is called; the world simulates a frame (or
 * DecisionPeriod frames); then CollectObservations, CollectReward and CheckEpisodeEnd answer
 * the trainer (with what AddReward/SetReward/EndEpisode set meanwhile). When the trainer resets
 * the agent (first reset, after an episode end, after a reconnection), OnEpisodeBegin is called
 * and its observation answers. Game thread only; nothing throws; problems go to LogWsBridge.
 */
UCLASS(ClassGroup = (WsBridge), BlueprintType, Blueprintable, meta = (BlueprintSpawnableComponent))
class WSBRIDGE_API UWsBridgeAgentComponent : public UActorComponent
{
	GENERATED_BODY()

public:
	UWsBridgeAgentComponent();

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge")
	FWsBridgeEnvSettings Env;

	/** Floats per observation (a Box float32 of this size). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Spaces", meta = (ClampMin = "1"))
	int32 ObservationSize = 1;
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Spaces")
	float ObservationLow = -1e30f;
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Spaces")
	float ObservationHigh = 1e30f;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Spaces")
	EWsBridgeActionType ActionType = EWsBridgeActionType::Discrete;
	/** Discrete: {choices}; MultiDiscrete: choices per branch. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Spaces")
	TArray<int32> DiscreteBranches;
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Spaces", meta = (ClampMin = "1"))
	int32 ContinuousActionSize = 1;
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Spaces")
	float ContinuousActionLow = -1.f;
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Spaces")
	float ContinuousActionHigh = 1.f;

	/** Fill Observations with ObservationSize floats (missing ones are 0, extra ones dropped). */
	UFUNCTION(BlueprintNativeEvent, Category = "WsBridge")
	void CollectObservations(TArray<float>& Observations);

	/** Act: Continuous fills ContinuousActions, Discrete and MultiDiscrete fill DiscreteActions. */
	UFUNCTION(BlueprintNativeEvent, Category = "WsBridge")
	void OnActionReceived(const TArray<float>& ContinuousActions, const TArray<int32>& DiscreteActions);

	/** Put the agent in its initial state. EpisodeSeed is the trainer's seed, or -1. */
	UFUNCTION(BlueprintNativeEvent, Category = "WsBridge")
	void OnEpisodeBegin();

	/** The reward of this decision, added to what AddReward/SetReward gave (default 0). */
	UFUNCTION(BlueprintNativeEvent, Category = "WsBridge")
	float CollectReward();

	/** Whether the episode is over (default: only EndEpisode ends it). */
	UFUNCTION(BlueprintNativeEvent, Category = "WsBridge")
	void CheckEpisodeEnd(bool& bTerminated, bool& bTruncated);

	UFUNCTION(BlueprintCallable, Category = "WsBridge")
	void AddReward(float Reward) { PendingReward += Reward; }
	UFUNCTION(BlueprintCallable, Category = "WsBridge")
	void SetReward(float Reward) { PendingReward = Reward; }
	/** Ends the episode: terminated (a terminal state), or truncated (cut short, e.g. a time limit). */
	UFUNCTION(BlueprintCallable, Category = "WsBridge")
	void EndEpisode(bool bTruncated = false);

	/** The seed of the current episode (-1 when the trainer gave none). */
	UPROPERTY(BlueprintReadOnly, Category = "WsBridge")
	int64 EpisodeSeed = -1;
	/** Decisions since OnEpisodeBegin. */
	UPROPERTY(BlueprintReadOnly, Category = "WsBridge")
	int32 EpisodeSteps = 0;

	// UActorComponent: registers with / leaves the world's UWsBridgeAcademy.
	virtual void BeginPlay() override;
	virtual void EndPlay(const EEndPlayReason::Type Reason) override;

	// For the academy: takes the decision's reward and episode end, and clears them.
	float TakeReward();
	void TakeEpisodeEnd(bool& bTerminated, bool& bTruncated);

protected:
	virtual void CollectObservations_Implementation(TArray<float>& Observations);
	virtual void OnActionReceived_Implementation(const TArray<float>& ContinuousActions, const TArray<int32>& DiscreteActions);
	virtual void OnEpisodeBegin_Implementation();
	virtual float CollectReward_Implementation();
	virtual void CheckEpisodeEnd_Implementation(bool& bTerminated, bool& bTruncated);

private:
	float PendingReward = 0.f;
	bool bEndTerminated = false;
	bool bEndTruncated = false;
};
