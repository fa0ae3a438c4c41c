#pragma once
#include "CoreMinimal.h"
class UWorld : public UObject {
public:
    template <class T> T* GetSubsystem() const { return nullptr; }
};
