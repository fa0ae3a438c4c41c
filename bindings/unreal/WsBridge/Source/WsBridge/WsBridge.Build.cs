// The WsBridge runtime module: UWsBridgeClient (an actor component for C++ and Blueprints)
// over the header-only C++ wrapper wsbridge.hpp, and the loading and shutdown of the library.

using UnrealBuildTool;

public class WsBridge : ModuleRules
{
	public WsBridge(ReadOnlyTargetRules Target) : base(Target)
	{
		PCHUsage = ModuleRules.PCHUsageMode.UseExplicitOrSharedPCHs;
		// wsbridge.hpp reports errors as values: no exceptions, no RTTI (Unreal's defaults).
		bEnableExceptions = false;
		bUseRTTI = false;

		PublicDependencyModuleNames.AddRange(new string[] { "Core", "CoreUObject", "Engine", "WsBridgeLibrary" });
		PrivateDependencyModuleNames.AddRange(new string[] { "Projects" });
	}
}
