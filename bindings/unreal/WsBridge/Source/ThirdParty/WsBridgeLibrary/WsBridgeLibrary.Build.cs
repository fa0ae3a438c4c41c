// The prebuilt wsbridge library (Rust, C ABI) and its headers, per platform: Epic's
// third-party library plugin layout. `make unreal-plugin` fills in the headers and the Linux
// library; README.md says how to build the others and where each goes:
//
//   Source/ThirdParty/WsBridgeLibrary/include/     wsbridge.h, wsbridge.hpp, wsbridge_env.hpp
//   Source/ThirdParty/WsBridgeLibrary/lib/Win64/   wsbridge.dll.lib (import library)
//   Binaries/ThirdParty/WsBridgeLibrary/Win64/     wsbridge.dll (delay-loaded)
//   Binaries/ThirdParty/WsBridgeLibrary/Mac/       libwsbridge.dylib
//   Binaries/ThirdParty/WsBridgeLibrary/Linux/     libwsbridge.so
//   Binaries/ThirdParty/WsBridgeLibrary/LinuxArm64/ libwsbridge.so
//   Source/ThirdParty/WsBridgeLibrary/lib/IOS/     libwsbridge.a (static)
//   Source/ThirdParty/WsBridgeLibrary/lib/Android/arm64-v8a/  libwsbridge.a (static)
//
// WSBRIDGE_LIBRARY_PATH tells the WsBridge module which file to load at startup (empty when
// the library is linked statically).

using System.IO;
using UnrealBuildTool;

public class WsBridgeLibrary : ModuleRules
{
	public WsBridgeLibrary(ReadOnlyTargetRules Target) : base(Target)
	{
		Type = ModuleType.External;
		PublicSystemIncludePaths.Add(Path.Combine(ModuleDirectory, "include"));
		Required(Path.Combine(ModuleDirectory, "include", "wsbridge.h"));
		Required(Path.Combine(ModuleDirectory, "include", "wsbridge.hpp"));
		Required(Path.Combine(ModuleDirectory, "include", "wsbridge_env.hpp"));

		string LibDir = Path.Combine(ModuleDirectory, "lib");
		string BinDir = Path.Combine(PluginDirectory, "Binaries", "ThirdParty", "WsBridgeLibrary");
		const string RuntimeDir = "$(PluginDir)/Binaries/ThirdParty/WsBridgeLibrary";

		if (Target.Platform == UnrealTargetPlatform.Win64)
		{
			PublicAdditionalLibraries.Add(Required(Path.Combine(LibDir, "Win64", "wsbridge.dll.lib")));
			Required(Path.Combine(BinDir, "Win64", "wsbridge.dll"));
			PublicDelayLoadDLLs.Add("wsbridge.dll");
			RuntimeDependencies.Add(RuntimeDir + "/Win64/wsbridge.dll");
			LoadAtStartup("Win64/wsbridge.dll");
		}
		else if (Target.Platform == UnrealTargetPlatform.Mac)
		{
			PublicDelayLoadDLLs.Add(Required(Path.Combine(BinDir, "Mac", "libwsbridge.dylib")));
			RuntimeDependencies.Add(RuntimeDir + "/Mac/libwsbridge.dylib");
			LoadAtStartup("Mac/libwsbridge.dylib");
		}
		else if (Target.Platform == UnrealTargetPlatform.Linux || Target.Platform == UnrealTargetPlatform.LinuxArm64)
		{
			string Platform = Target.Platform == UnrealTargetPlatform.Linux ? "Linux" : "LinuxArm64";
			Required(Path.Combine(BinDir, Platform, "libwsbridge.so"));
			string SharedLibrary = RuntimeDir + "/" + Platform + "/libwsbridge.so";
			PublicAdditionalLibraries.Add(SharedLibrary);
			PublicDelayLoadDLLs.Add(SharedLibrary);
			RuntimeDependencies.Add(SharedLibrary);
			LoadAtStartup(Platform + "/libwsbridge.so");
		}
		else if (Target.Platform == UnrealTargetPlatform.IOS)
		{
			// Static: iOS apps may not load their own dynamic libraries.
			PublicAdditionalLibraries.Add(Required(Path.Combine(LibDir, "IOS", "libwsbridge.a")));
			PublicSystemLibraries.Add("iconv");
			LinkStatically();
		}
		else if (Target.Platform == UnrealTargetPlatform.Android)
		{
			// Static, so nothing has to be packaged into the APK.
			PublicAdditionalLibraries.Add(Required(Path.Combine(LibDir, "Android", "arm64-v8a", "libwsbridge.a")));
			PublicSystemLibraries.AddRange(new string[] { "log", "dl", "m" });
			LinkStatically();
		}
		else
		{
			throw new BuildException("wsbridge: no prebuilt library for {0}; add one to WsBridgeLibrary.Build.cs (see Plugins/WsBridge/README.md)", Target.Platform.ToString());
		}
	}

	// The library is loaded by the WsBridge module from this path under Binaries/ThirdParty/WsBridgeLibrary.
	private void LoadAtStartup(string RelativePath)
	{
		PublicDefinitions.Add("WSBRIDGE_LIBRARY_PATH=\"" + RelativePath + "\"");
	}

	private void LinkStatically()
	{
		PublicDefinitions.Add("WSBRIDGE_LIBRARY_PATH=\"\"");
	}

	// Fails the build with the path and what to do, instead of a linker error later.
	private static string Required(string FilePath)
	{
		if (!File.Exists(FilePath))
		{
			throw new BuildException("wsbridge: {0} is missing. Build wsbridge for this platform and copy it there (see Plugins/WsBridge/README.md).", FilePath);
		}
		return FilePath;
	}
}
