#include "WsBridgeSubsystem.h"

void UWsBridgeSubsystem::Initialize(FSubsystemCollectionBase& Collection)
{
	Super::Initialize(Collection);
	// Outer: the subsystem, not an actor, so no level unload destroys it; it is never registered
	// with a world, so its own TickComponent never runs: Tick() below pumps it.
	Client = NewObject<UWsBridgeClient>(this, TEXT("WsBridgeClient"));
}

void UWsBridgeSubsystem::Deinitialize()
{
	if (Client)
	{
		Client->Close(1001, TEXT("game instance shut down"));  // never blocks
		Client = nullptr;
	}
	Super::Deinitialize();
}

void UWsBridgeSubsystem::Tick(float DeltaTime)
{
	if (Client)
	{
		Client->Pump();
	}
}

ETickableTickType UWsBridgeSubsystem::GetTickableTickType() const
{
	// The class default object never ticks; instances ask IsTickable.
	return HasAnyFlags(RF_ClassDefaultObject) ? ETickableTickType::Never : ETickableTickType::Conditional;
}

bool UWsBridgeSubsystem::IsTickable() const
{
	return Client != nullptr;
}

TStatId UWsBridgeSubsystem::GetStatId() const
{
	RETURN_QUICK_DECLARE_CYCLE_STAT(UWsBridgeSubsystem, STATGROUP_Tickables);
}
