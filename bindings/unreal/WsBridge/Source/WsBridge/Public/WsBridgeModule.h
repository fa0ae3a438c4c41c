// The WsBridge module: loads the wsbridge library at startup and shuts it down cleanly.
#pragma once

#include "CoreMinimal.h"
#include "Modules/ModuleInterface.h"

WSBRIDGE_API DECLARE_LOG_CATEGORY_EXTERN(LogWsBridge, Log, All);

class WSBRIDGE_API FWsBridgeModule : public IModuleInterface
{
public:
	/** Loads the library from Binaries/ThirdParty/WsBridgeLibrary (desktop platforms; iOS and
	 *  Android link it statically) and checks that its version matches wsbridge.h. */
	virtual void StartupModule() override;

	/** Calls wsb_shutdown(1000 ms) before the library goes away: every open connection is
	 *  closed with 1001 ("going away") and wsbridge's background threads stop, so unloading
	 *  the library (editor shutdown, plugin unload, hot reload) never leaves a thread running
	 *  code that is no longer mapped. Clients still alive afterwards hold stale handles and
	 *  are released without calling into the library. If a DNS lookup is still blocked on
	 *  wsbridge's DNS thread (WSB_LOOKUP_RUNNING), the library is left loaded instead. */
	virtual void ShutdownModule() override;

	/** True between a successful StartupModule and ShutdownModule: wsbridge may be called. */
	static bool IsLibraryAvailable();

	/** Why the library may not be called (empty while it may). */
	static FString UnavailableReason();

private:
	void* LibraryHandle = nullptr;
};
