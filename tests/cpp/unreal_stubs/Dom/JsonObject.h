#pragma once
#include "CoreMinimal.h"
struct FJsonValue { double AsNumber() const { return 0; } };
struct FJsonObject {
    bool TryGetArrayField(const TCHAR*, const TArray<TSharedPtr<FJsonValue>>*&) const { return false; }
};
