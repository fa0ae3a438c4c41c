# The Unity package (bindings/unity): its C# compiled and tested under Mono, and the C# seed
# client (examples/csharp). Mono comes from Debian (`make deps`, which `make test` runs first).
#
#   make test-unity      the C# suite under Mono + the package layout test   (part of `make test`)
#   make unity-package   build/unity/com.wsbridge.unity-<version>.tgz with the Linux library,
#                        for Unity's "Add package from tarball"

MONO_PACKAGES := mono-mcs mono-runtime mono-devel
# The Unity Test Framework tests (Tests/Runtime) under Debian's NUnit 2.6 and nunit-console.
NUNIT_PACKAGES := libnunit-cil-dev nunit-console
CSHARP_BUILD  := $(BUILD)/csharp
# mcs accepts C# up to 7.2, a subset of what Unity 2021.3 compiles: the same sources work in both.
MCS           := mcs -langversion:7.2 -warnaserror+ -nologo -debug
UNITY_DIR     := bindings/unity
UNITY_RUNTIME := $(sort $(wildcard $(UNITY_DIR)/Runtime/*.cs))
# Sources that need UnityEngine/UnityEditor (not available here): parsed, not compiled.
UNITY_ONLY    := $(UNITY_DIR)/Runtime/UnityLifecycle.cs $(UNITY_DIR)/Runtime/WsbridgeConnection.cs $(UNITY_DIR)/Runtime/WsbridgeAcademy.cs $(UNITY_DIR)/Runtime/WsbridgeAgent.cs $(sort $(wildcard $(UNITY_DIR)/Samples~/*/*.cs))
UNITY_DEFINES := UNITY_5_3_OR_NEWER;UNITY_2021_3_OR_NEWER;UNITY_EDITOR
CSHARP_TESTS  := $(sort $(wildcard tests/csharp/*.cs))

.PHONY: mono-install test-unity unity-syntax unity-package unity-nunit

DEBIAN_PACKAGES += $(MONO_PACKAGES) $(NUNIT_PACKAGES)
mono-install: deps

# The package's own Unity Test Framework tests (Tests/Runtime), compiled against Debian's NUnit
# 2.6 (Unity ships NUnit 3; these tests use the API both have) and run by nunit-console, beside
# the debug library.
UNITY_TESTS    := $(sort $(wildcard $(UNITY_DIR)/Tests/Runtime/*.cs))
$(CSHARP_BUILD)/Wsbridge.UnityTests.dll: $(UNITY_TESTS) $(CSHARP_BUILD)/Wsbridge.dll | mono-install
	$(MCS) -target:library -r:$(CSHARP_BUILD)/Wsbridge.dll -r:/usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll -out:$@ $(UNITY_TESTS)

unity-nunit: $(CSHARP_BUILD)/Wsbridge.UnityTests.dll $(CSHARP_BUILD)/libwsbridge.so
	cd $(CSHARP_BUILD) && nunit-console -nologo -noshadow -nothread -labels -xml=Wsbridge.UnityTests.xml Wsbridge.UnityTests.dll

# The package's Runtime/ as its own assembly, as Unity compiles it (Wsbridge.asmdef).
$(CSHARP_BUILD)/Wsbridge.dll: $(UNITY_RUNTIME) | mono-install
	@mkdir -p $(@D)
	$(MCS) -unsafe -target:library -out:$@ $(UNITY_RUNTIME)

# Mono finds a native library beside the assembly that imports it, as Unity's players do.
$(CSHARP_BUILD)/libwsbridge.so: $(DEBUG_LIB)/libwsbridge.so
	@mkdir -p $(@D)
	ln -sf $< $@

$(CSHARP_BUILD)/WsbridgeTests.exe: $(CSHARP_TESTS) $(CSHARP_BUILD)/Wsbridge.dll
	$(MCS) -r:$(CSHARP_BUILD)/Wsbridge.dll -out:$@ $(CSHARP_TESTS)

# The seed client, beside the debug library: run by tests/csharp against the trainer.
$(CSHARP_BUILD)/Client.exe: examples/csharp/Client.cs $(CSHARP_BUILD)/Wsbridge.dll
	$(MCS) -r:$(CSHARP_BUILD)/Wsbridge.dll -out:$@ $<

# The C# cartpole (the env API's EnvAgent/EnvDriver, trained by tests/csharp/test_env_training.py
# and by `make demo`) and the C# conformance game (tests/conformance, implementation "csharp").
$(CSHARP_BUILD)/Cartpole.exe: examples/csharp/Cartpole.cs $(CSHARP_BUILD)/Wsbridge.dll
	$(MCS) -r:$(CSHARP_BUILD)/Wsbridge.dll -out:$@ $<
$(CSHARP_BUILD)/SpacesGame.exe: tests/conformance/spaces_game.cs $(CSHARP_BUILD)/Wsbridge.dll
	$(MCS) -unsafe -r:$(CSHARP_BUILD)/Wsbridge.dll -out:$@ $<
CONFORMANCE_DEPS += $(CSHARP_BUILD)/SpacesGame.exe $(CSHARP_BUILD)/libwsbridge.so

# The same program and package assembly for `make demo`, beside the release library.
CSHARP_DEMO := $(CSHARP_BUILD)/demo
$(CSHARP_DEMO)/Client.exe: $(CSHARP_BUILD)/Client.exe $(RELEASE_LIB)/libwsbridge.so
	@mkdir -p $(@D)
	cp $(addprefix $(CSHARP_BUILD)/,Wsbridge.dll Wsbridge.dll.mdb Client.exe Client.exe.mdb) $(@D)/
	ln -sf $(RELEASE_LIB)/libwsbridge.so $(@D)/libwsbridge.so
$(CSHARP_DEMO)/Cartpole.exe: $(CSHARP_BUILD)/Cartpole.exe $(CSHARP_DEMO)/Client.exe
	cp $(addprefix $(CSHARP_BUILD)/,Cartpole.exe Cartpole.exe.mdb) $(@D)/

# Twice: as Unity 2021.3 and as Unity 6 (Awaitable, Rigidbody.linearVelocity), since --parse
# skips what an #if leaves out.
UNITY6_DEFINES := $(UNITY_DEFINES);UNITY_2023_1_OR_NEWER;UNITY_6000_0_OR_NEWER
unity-syntax: | mono-install
	$(MCS) --parse '-define:$(UNITY_DEFINES)' $(UNITY_ONLY)
	$(MCS) --parse '-define:$(UNITY6_DEFINES)' $(UNITY_ONLY)

# Second expansion: PY_PACKAGE (the trainer package, for tests/csharp/test_env.py) comes from python.mk.
.SECONDEXPANSION:
test-unity: $(CSHARP_BUILD)/WsbridgeTests.exe $(CSHARP_BUILD)/Client.exe $(CSHARP_BUILD)/Cartpole.exe $(CSHARP_BUILD)/libwsbridge.so unity-syntax unity-nunit $$(PY_PACKAGE)
	$(PY) -m pytest -q tests/csharp

TEST_TARGETS += test-unity

# `make demo` runs the C# seed client and trains the C# cartpole beside the C games when Mono is
# installed (`make deps`, which `make test` runs first, installs it).
ifneq ($(shell command -v mono 2>/dev/null),)
ifneq ($(shell command -v mcs 2>/dev/null),)
SEED_DEMOS += 'mono $(CSHARP_DEMO)/Client.exe {port}'
SEED_DEPS += $(CSHARP_DEMO)/Client.exe
DEMO_GAMES += --game 'mono $(abspath $(CSHARP_DEMO))/Cartpole.exe'
DEMO_GAME_DEPS += $(CSHARP_DEMO)/Cartpole.exe
MONO_FOUND := yes
endif
endif
ifndef MONO_FOUND
ifneq ($(filter demo demo-seed,$(MAKECMDGOALS)),)
$(info demo: Mono is not installed, so the C# client and cartpole are left out (`make deps` installs it: $(MONO_PACKAGES)))
endif
endif

# ---- Package tarball ---------------------------------------------------------------------

UNITY_VERSION := $(shell sed -n 's/^  "version": "\(.*\)",/\1/p' $(UNITY_DIR)/package.json)
UNITY_TGZ     := $(BUILD)/unity/com.wsbridge.unity-$(UNITY_VERSION).tgz

unity-package: $(UNITY_TGZ)
$(UNITY_TGZ): $(shell find $(UNITY_DIR) -type f -not -name '.*') $(RELEASE_LIB)/libwsbridge.so
	rm -rf $(BUILD)/unity/package && mkdir -p $(BUILD)/unity
	cp -R $(UNITY_DIR) $(BUILD)/unity/package
	find $(BUILD)/unity/package -name '.*' -type f -delete
	cp $(RELEASE_LIB)/libwsbridge.so $(BUILD)/unity/package/Plugins/runtimes/linux-x64/native/
	@# Import settings of libraries not built here would be orphans: Unity warns about them.
	for meta in $(BUILD)/unity/package/Plugins/runtimes/*/native/*.meta; do \
	  [ -e "$${meta%.meta}" ] || { echo "not included: $${meta%.meta}"; rm "$$meta"; }; \
	done
	tar -C $(BUILD)/unity -czf $@ package
	@echo "$@: add it in Unity with Package Manager > + > Add package from tarball"
	@echo "(Linux x86_64 library included; build the other platforms as $(UNITY_DIR)/README.md says)"
