#include "WsBridgeAgentComponent.h"

#include "Engine/World.h"
#include "GameFramework/Actor.h"
#include "WsBridgeAcademy.h"
#include "WsBridgeModule.h"

UWsBridgeAgentComponent::UWsBridgeAgentComponent()
{
	// The academy steps the agent; the component itself never ticks.
	PrimaryComponentTick.bCanEverTick = false;
}

void UWsBridgeAgentComponent::BeginPlay()
{
	Super::BeginPlay();
	UWorld* World = GetWorld();
	UWsBridgeAcademy* Academy = World ? World->GetSubsystem<UWsBridgeAcademy>() : nullptr;
	if (!Academy)
	{
		UE_LOG(LogWsBridge, Warning, TEXT("%s: no UWsBridgeAcademy in this world; the agent is not trained"), *GetNameSafe(GetOwner()));
		return;
	}
	Academy->Register(this);
}

void UWsBridgeAgentComponent::EndPlay(const EEndPlayReason::Type Reason)
{
	UWorld* World = GetWorld();
	if (UWsBridgeAcademy* Academy = World ? World->GetSubsystem<UWsBridgeAcademy>() : nullptr)
	{
		Academy->Unregister(this);
	}
	Super::EndPlay(Reason);
}

void UWsBridgeAgentComponent::EndEpisode(bool bTruncated)
{
	(bTruncated ? bEndTruncated : bEndTerminated) = true;
}

float UWsBridgeAgentComponent::TakeReward()
{
	const float Reward = PendingReward + CollectReward();
	PendingReward = 0.f;
	return Reward;
}

void UWsBridgeAgentComponent::TakeEpisodeEnd(bool& bTerminated, bool& bTruncated)
{
	bTerminated = false;
	bTruncated = false;
	CheckEpisodeEnd(bTerminated, bTruncated);
	bTerminated = bTerminated || bEndTerminated;
	bTruncated = bTruncated || bEndTruncated;
	bEndTerminated = false;
	bEndTruncated = false;
}

void UWsBridgeAgentComponent::CollectObservations_Implementation(TArray<float>& Observations)
{
}

void UWsBridgeAgentComponent::OnActionReceived_Implementation(const TArray<float>& ContinuousActions, const TArray<int32>& DiscreteActions)
{
}

void UWsBridgeAgentComponent::OnEpisodeBegin_Implementation()
{
}

float UWsBridgeAgentComponent::CollectReward_Implementation()
{
	return 0.f;
}

void UWsBridgeAgentComponent::CheckEpisodeEnd_Implementation(bool& bTerminated, bool& bTruncated)
{
}
