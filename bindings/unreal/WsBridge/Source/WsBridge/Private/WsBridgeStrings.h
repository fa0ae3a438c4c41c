// FString <-> UTF-8 for the plugin's calls into wsbridge (which takes and gives UTF-8).
#pragma once

#include "CoreMinimal.h"

#include <string>
#include <string_view>

namespace WsBridgeStrings
{
	inline FString FromUtf8(std::string_view Text)
	{
		const FUTF8ToTCHAR Converted(reinterpret_cast<const ANSICHAR*>(Text.data()), static_cast<int32>(Text.size()));
		FString Out;
		Out.AppendChars(Converted.Get(), Converted.Length());
		return Out;
	}

	inline std::string ToUtf8(const FString& Text)
	{
		const FTCHARToUTF8 Converted(*Text);
		return std::string(reinterpret_cast<const char*>(Converted.Get()), static_cast<size_t>(Converted.Length()));
	}
}
