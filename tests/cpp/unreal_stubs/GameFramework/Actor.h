#pragma once
#include "CoreMinimal.h"
struct FActorTickFunction { bool bCanEverTick = false; };
class AActor : public UObject {
public:
    virtual void BeginPlay() {}
    virtual void Tick(float) {}
    virtual void EndPlay(int) {}
    template <class T> T* CreateDefaultSubobject(const TCHAR*) { return nullptr; }
    FVector GetActorLocation() const { return FVector(); }
    bool SetActorLocation(const FVector&) { return true; }
    FActorTickFunction PrimaryActorTick;
};
