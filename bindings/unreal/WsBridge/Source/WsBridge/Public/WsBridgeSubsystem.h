// UWsBridgeSubsystem: one connection to a trainer that lives as long as the game instance, so it
// survives level loads (OpenLevel, seamless travel) that destroy every actor and its components.
#pragma once

#include "CoreMinimal.h"
#include "Subsystems/GameInstanceSubsystem.h"
#include "Tickable.h"
#include "WsBridgeClient.h"

#include "WsBridgeSubsystem.generated.h"

/**
 * Owns a UWsBridgeClient outside any actor and ticks it itself (also while paused and during
 * level transitions), so its events keep coming on the game thread from one map to the next.
 *
 *     UWsBridgeClient* Bridge = GetGameInstance()->GetSubsystem<UWsBridgeSubsystem>()->GetClient();
 *     Bridge->Connect(TEXT("ws://127.0.0.1:8001/env/0"));   // once, e.g. in the first map
 *
 * Set its options (TLS, proxy, timeouts) and bind its events like a component's. The connection
 * is closed without blocking when the game instance shuts down (Deinitialize).
 */
UCLASS()
class WSBRIDGE_API UWsBridgeSubsystem : public UGameInstanceSubsystem, public FTickableGameObject
{
	GENERATED_BODY()

public:
	virtual void Initialize(FSubsystemCollectionBase& Collection) override;
	virtual void Deinitialize() override;

	/** The connection of this game instance (created with the subsystem; never null after Initialize). */
	UFUNCTION(BlueprintPure, Category = "WsBridge")
	UWsBridgeClient* GetClient() const { return Client; }

	// FTickableGameObject: pumps the client once per frame on the game thread.
	virtual void Tick(float DeltaTime) override;
	virtual ETickableTickType GetTickableTickType() const override;
	virtual bool IsTickable() const override;
	virtual bool IsTickableWhenPaused() const override { return true; }
	virtual TStatId GetStatId() const override;

private:
	UPROPERTY()
	TObjectPtr<UWsBridgeClient> Client;
};
