#include "WsBridgeModule.h"

#include "HAL/PlatformProcess.h"
#include "Interfaces/IPluginManager.h"
#include "Misc/Paths.h"
#include "Modules/ModuleManager.h"

THIRD_PARTY_INCLUDES_START
#include "wsbridge.hpp"
THIRD_PARTY_INCLUDES_END

#include <atomic>
#include <chrono>

DEFINE_LOG_CATEGORY(LogWsBridge);

namespace
{
	std::atomic<bool> GLibraryAvailable{false};
	FString GUnavailableReason = TEXT("the WsBridge module has not started");
}

bool FWsBridgeModule::IsLibraryAvailable()
{
	return GLibraryAvailable.load();
}

FString FWsBridgeModule::UnavailableReason()
{
	return GLibraryAvailable.load() ? FString() : GUnavailableReason;
}

void FWsBridgeModule::StartupModule()
{
	const FString RelativePath = UTF8_TO_TCHAR(WSBRIDGE_LIBRARY_PATH);
	if (!RelativePath.IsEmpty())
	{
		const TSharedPtr<IPlugin> Plugin = IPluginManager::Get().FindPlugin(TEXT("WsBridge"));
		const FString BaseDir = Plugin.IsValid() ? Plugin->GetBaseDir() : FString();
		const FString LibraryPath = FPaths::Combine(BaseDir, TEXT("Binaries/ThirdParty/WsBridgeLibrary"), RelativePath);
		LibraryHandle = FPlatformProcess::GetDllHandle(*LibraryPath);
		if (LibraryHandle == nullptr)
		{
			GUnavailableReason = FString::Printf(TEXT("cannot load %s: build the library and copy it there (Plugins/WsBridge/README.md)"), *LibraryPath);
			UE_LOG(LogWsBridge, Error, TEXT("wsbridge: %s"), *GUnavailableReason);
			return;
		}
	}

	// A library of another version may have another ABI: calling it could crash the game.
	const wsbridge::Result<void> Version = wsbridge::check_version();
	if (!Version)
	{
		GUnavailableReason = UTF8_TO_TCHAR(Version.error().message().c_str());
		UE_LOG(LogWsBridge, Error, TEXT("wsbridge: %s; WsBridge clients will report errors"), *GUnavailableReason);
		return;
	}
	GLibraryAvailable.store(true);
	UE_LOG(LogWsBridge, Log, TEXT("wsbridge %s loaded"), UTF8_TO_TCHAR(wsb_version()));
}

void FWsBridgeModule::ShutdownModule()
{
	GUnavailableReason = TEXT("the WsBridge module has shut down");
	bool bSafeToUnload = true;
	if (GLibraryAvailable.exchange(false))
	{
		const wsbridge::Result<void> Down = wsbridge::shutdown(std::chrono::milliseconds(1000));
		if (!Down)
		{
			UE_LOG(LogWsBridge, Warning, TEXT("wsbridge: shutdown: %s"), UTF8_TO_TCHAR(Down.error().to_string().c_str()));
			// A DNS lookup still runs on wsbridge's thread: unmapping the library now would
			// crash that thread when getaddrinfo returns, so the library stays loaded.
			bSafeToUnload = Down.error().code() != WSB_LOOKUP_RUNNING;
		}
	}
	if (LibraryHandle != nullptr && bSafeToUnload)
	{
		FPlatformProcess::FreeDllHandle(LibraryHandle);
		LibraryHandle = nullptr;
	}
}

IMPLEMENT_MODULE(FWsBridgeModule, WsBridge)
