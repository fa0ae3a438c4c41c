#pragma once
#include "CoreMinimal.h"
template <class C = TCHAR> struct TJsonReader {};
template <class C = TCHAR> struct TJsonReaderFactory {
    static TSharedRef<TJsonReader<C>> Create(const FString&) { return {}; }
};
