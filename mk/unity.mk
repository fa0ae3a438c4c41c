# The Unity package (bindings/unity): its C# compiled and tested under Mono, and the C# seed
# client (examples/csharp). Mono comes from Debian (installed by `make test` when missing).
#
#   make test-unity      the C# suite under Mono + the package layout test   (part of `make test`)
#   make unity-package   build/unity/com.wsbridge.unity-<version>.tgz with the Linux library,
#                        for Unity's "Add package from tarball"

MONO_PACKAGES := mono-mcs mono-runtime mono-devel
CSHARP_BUILD  := $(BUILD)/csharp
# mcs accepts C# up to 7.2, a subset of what Unity 2021.3 compiles: the same sources work in both.
MCS           := mcs -langversion:7.2 -warnaserror+ -nologo -debug
UNITY_DIR     := bindings/unity
UNITY_RUNTIME := $(sort $(wildcard $(UNITY_DIR)/Runtime/*.cs))
# Sources that need UnityEngine/UnityEditor (not available here): parsed, not compiled.
UNITY_ONLY    := $(UNITY_DIR)/Runtime/UnityLifecycle.cs $(sort $(wildcard $(UNITY_DIR)/Samples~/*/*.cs))
UNITY_DEFINES := UNITY_5_3_OR_NEWER;UNITY_2021_3_OR_NEWER;UNITY_EDITOR
CSHARP_TESTS  := $(sort $(wildcard tests/csharp/*.cs))

.PHONY: mono-install test-unity unity-syntax unity-package

mono-install:
	@$(call apt_install,$(MONO_PACKAGES))

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

# The same program and package assembly for `make demo`, beside the release library.
CSHARP_DEMO := $(CSHARP_BUILD)/demo
$(CSHARP_DEMO)/Client.exe: $(CSHARP_BUILD)/Client.exe $(RELEASE_LIB)/libwsbridge.so
	@mkdir -p $(@D)
	cp $(addprefix $(CSHARP_BUILD)/,Wsbridge.dll Wsbridge.dll.mdb Client.exe Client.exe.mdb) $(@D)/
	ln -sf $(RELEASE_LIB)/libwsbridge.so $(@D)/libwsbridge.so

unity-syntax: | mono-install
	$(MCS) --parse '-define:$(UNITY_DEFINES)' $(UNITY_ONLY)

test-unity: $(CSHARP_BUILD)/WsbridgeTests.exe $(CSHARP_BUILD)/Client.exe $(CSHARP_BUILD)/libwsbridge.so unity-syntax venv
	$(PY) -m pytest -q tests/csharp

TEST_TARGETS += test-unity

# `make demo` runs the C# seed client when Mono is installed (`make test` installs it).
ifneq ($(shell command -v mono 2>/dev/null),)
ifneq ($(shell command -v mcs 2>/dev/null),)
SEED_DEMOS += 'mono $(CSHARP_DEMO)/Client.exe {port}'
SEED_DEPS += $(CSHARP_DEMO)/Client.exe
MONO_FOUND := yes
endif
endif
ifndef MONO_FOUND
ifneq ($(filter demo demo-seed,$(MAKECMDGOALS)),)
$(info demo: Mono is not installed, so the C# client is left out (make test installs it: $(MONO_PACKAGES)))
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
