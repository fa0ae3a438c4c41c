#pragma once
#include "CoreMinimal.h"
enum class ETickableTickType : uint8 { Conditional, Always, Never };
struct TStatId {};
#define RETURN_QUICK_DECLARE_CYCLE_STAT(Name, Group) return TStatId()
class FTickableGameObject {
public:
    virtual ~FTickableGameObject() = default;
    virtual void Tick(float DeltaTime) = 0;
    virtual ETickableTickType GetTickableTickType() const { return ETickableTickType::Conditional; }
    virtual bool IsTickable() const { return true; }
    virtual bool IsTickableWhenPaused() const { return false; }
    virtual TStatId GetStatId() const = 0;
};
