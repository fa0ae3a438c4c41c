// A minimal agent without Blueprints: copy this file and WsBridgeSampleAgent.cpp into your game
// module (Source/<Game>/), replace WSBRIDGESAMPLE_API by your module's API macro, add "WsBridge"
// to its PublicDependencyModuleNames, place the actor in a map, run
// examples/python/trainer.py --port 8001, press Play.
//
// Real time: connects in BeginPlay without blocking, sends its position every tick (the result
// may be ignored: a lost link is reported by OnError/OnClosed, never by an exception), and moves
// by the trainer's replies as they arrive. EndPlay closes without blocking (the component does).
#pragma once

#include "CoreMinimal.h"
#include "GameFramework/Actor.h"
#include "WsBridgeClient.h"

#include "WsBridgeSampleAgent.generated.h"

UCLASS()
class WSBRIDGESAMPLE_API AWsBridgeSampleAgent : public AActor
{
	GENERATED_BODY()

public:
	AWsBridgeSampleAgent();

	UPROPERTY(EditAnywhere, Category = "WsBridge")
	FString TrainerUrl = TEXT("ws://127.0.0.1:8001/env/0");

	UPROPERTY(EditAnywhere, Category = "WsBridge")
	float Speed = 200.f;

	virtual void BeginPlay() override;
	virtual void Tick(float DeltaSeconds) override;

private:
	UFUNCTION()
	void OnConnected();
	UFUNCTION()
	void OnText(const FString& Text);
	UFUNCTION()
	void OnError(EWsBridgeResult Result, const FString& Message);
	UFUNCTION()
	void OnClosed(int32 Code, const FString& Reason);

	UPROPERTY(VisibleAnywhere, Category = "WsBridge")
	TObjectPtr<UWsBridgeClient> Bridge;

	FVector Velocity = FVector::ZeroVector;
	int32 Step = 0;
};
