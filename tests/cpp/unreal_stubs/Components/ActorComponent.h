#pragma once
#include "CoreMinimal.h"

class AActor;
enum ELevelTick { LEVELTICK_All };
struct FActorComponentTickFunction { bool bCanEverTick = false; bool bStartWithTickEnabled = false; bool bTickEvenWhenPaused = false; };
namespace EEndPlayReason { enum Type { Destroyed, LevelTransition, EndPlayInEditor, RemovedFromWorld, Quit }; }

class UActorComponent : public UObject {
public:
    virtual void BeginPlay() {}
    virtual void TickComponent(float, ELevelTick, FActorComponentTickFunction*) {}
    virtual void EndPlay(const EEndPlayReason::Type) {}
    AActor* GetOwner() const { return nullptr; }
    FActorComponentTickFunction PrimaryComponentTick;
};

inline FString GetNameSafe(const UObject*) { return FString(); }
