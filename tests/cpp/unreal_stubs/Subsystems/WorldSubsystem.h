#pragma once
#include "CoreMinimal.h"
#include "Subsystems/GameInstanceSubsystem.h"
#include "Tickable.h"
class UWorldSubsystem : public UObject {
public:
    virtual void Initialize(FSubsystemCollectionBase&) {}
    virtual void Deinitialize() {}
};
class UTickableWorldSubsystem : public UWorldSubsystem, public FTickableGameObject {
public:
    virtual void Tick(float) override {}
};
