// A code-first agent: the classic cart-pole as a UWsBridgeAgentComponent written in C++ (no
// Blueprint). Copy this file and WsBridgeCartPoleAgent.cpp into your game module, replace
// WSBRIDGESAMPLE_API by your module's API macro, add "WsBridge" to its
// PublicDependencyModuleNames, add the component to any actor (several actors: several agents
// of one env), start the trainer (docs/train-unreal.md), press Play.
//
// The cart is simulated by the component itself, one 20 ms step per decision, so the sample
// needs no level content; a real game reads its observations from the world instead.
#pragma once

#include "CoreMinimal.h"
#include "WsBridgeAgentComponent.h"

#include "WsBridgeCartPoleAgent.generated.h"

UCLASS(ClassGroup = (WsBridge), meta = (BlueprintSpawnableComponent))
class WSBRIDGESAMPLE_API UWsBridgeCartPoleAgent : public UWsBridgeAgentComponent
{
	GENERATED_BODY()

public:
	UWsBridgeCartPoleAgent();

	/** Decisions before the episode is truncated. */
	UPROPERTY(EditAnywhere, Category = "CartPole")
	int32 MaxSteps = 500;

protected:
	virtual void CollectObservations_Implementation(TArray<float>& Observations) override;
	virtual void OnActionReceived_Implementation(const TArray<float>& ContinuousActions, const TArray<int32>& DiscreteActions) override;
	virtual void OnEpisodeBegin_Implementation() override;

private:
	double X = 0, XDot = 0, Theta = 0, ThetaDot = 0;
	uint64 Random = 1;
};
