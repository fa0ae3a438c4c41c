# Release packages: `make dist` writes dist/ (docs/platforms.md lists what is built and tested).
#
#   make linux-portable  the Linux x86_64 library linked against glibc 2.17 (cargo-zigbuild, with
#                        Zig from PyPI in $(ZIG_VENV)), so it loads on the distributions players
#                        and build farms use (RHEL/CentOS 7 and later)
#   make dist            dist/: per platform a C SDK archive; the Unity package (UPM tarball)
#                        and the Unreal plugin (zip) with every platform's library; the trainer
#                        wheel; SHA256SUMS. Libraries stripped, debug information beside them
#   make test-dist       each artifact unpacked into an empty folder and used as a user would
#                        (tests/dist)                                      (part of `make test`)
#
# One version, Cargo.toml's: it reaches the header macros (cbindgen), and tests/dist checks
# package.json, the .uplugin and pyproject.toml against it; the archive names carry it.

DIST_VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)
DIST         := dist
DIST_STAGE   := $(BUILD)/dist
DIST_LIBS    := $(DIST_STAGE)/lib
# mk/windows.mk's WIN_SDK, WIN_TESTS and WINE_PREFIX (that fragment is read after this one,
# and rule lines expand at once).
DIST_WIN_SDK   := $(BUILD)/windows/sdk
DIST_WIN_TESTS := $(BUILD)/windows/tests
DIST_WINE_INIT := $(abspath $(BUILD)/windows/wineprefix)/.initialised

# ---- Linux x86_64 against glibc 2.17 --------------------------------------------------------

LINUX_TARGET  := x86_64-unknown-linux-gnu
LINUX_GLIBC   := 2.17
LINUX_RELEASE := $(abspath target/$(LINUX_TARGET)/release)
ZIG_VENV      := $(BUILD)/zig-venv
# Pinned, so that the glibc stubs and the linker do not change under the build.
ZIGLANG_VERSION := 0.17.1
CARGO_ZIGBUILD_VERSION := 0.24.1
ZIG_PACKAGES  := ziglang==$(ZIGLANG_VERSION) cargo-zigbuild==$(CARGO_ZIGBUILD_VERSION)
ZIG_STAMP     := $(ZIG_VENV)/.ziglang-$(ZIGLANG_VERSION)-cargo-zigbuild-$(CARGO_ZIGBUILD_VERSION)

$(ZIG_STAMP):
	$(PYTHON) -m venv $(ZIG_VENV)
	$(ZIG_VENV)/bin/pip install --quiet --disable-pip-version-check $(ZIG_PACKAGES) \
	  || { echo "error: cannot install $(ZIG_PACKAGES) from PyPI"; exit 1; }
	@touch $@

$(LINUX_RELEASE)/libwsbridge.so $(LINUX_RELEASE)/libwsbridge.a &: $(RUST_SOURCES) $(ZIG_STAMP)
	PATH=$(abspath $(ZIG_VENV))/bin:$$PATH $(CARGO) zigbuild --lib --release --target $(LINUX_TARGET).$(LINUX_GLIBC)
	@touch $(LINUX_RELEASE)/libwsbridge.so $(LINUX_RELEASE)/libwsbridge.a

.PHONY: linux-portable linux-arm64-tools dist-libs
linux-portable: $(LINUX_RELEASE)/libwsbridge.so $(LINUX_RELEASE)/libwsbridge.a

# ---- Linux aarch64 against glibc 2.17, tested under qemu-user ------------------------------------

ARM64_TARGET  := aarch64-unknown-linux-gnu
ARM64_RELEASE := $(abspath target/$(ARM64_TARGET)/release)
ARM64_CC      := aarch64-linux-gnu-gcc

DEBIAN_PACKAGES += qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross
linux-arm64-tools: deps
	@rustup target list --installed | grep -qx $(ARM64_TARGET) || rustup target add $(ARM64_TARGET) \
	  || { echo "error: 'rustup target add $(ARM64_TARGET)' failed"; exit 1; }

$(ARM64_RELEASE)/libwsbridge.so $(ARM64_RELEASE)/libwsbridge.a &: $(RUST_SOURCES) $(ZIG_STAMP) | linux-arm64-tools
	PATH=$(abspath $(ZIG_VENV))/bin:$$PATH $(CARGO) zigbuild --lib --release --target $(ARM64_TARGET).$(LINUX_GLIBC)
	@touch $(ARM64_RELEASE)/libwsbridge.so $(ARM64_RELEASE)/libwsbridge.a

# The C ABI suite for aarch64, run by tests/dist/test_linux_arm64.py under qemu-aarch64 against
# the distributed (stripped) library.
$(DIST_STAGE)/arm64/abi_test: $(ABI_TEST_SOURCES) $(C_TEST_COMMON_DEPS) $(DIST_LIBS)/linux-arm64/libwsbridge.so
	@mkdir -p $(@D)
	$(ARM64_CC) $(CFLAGS_STRICT) -o $@ $(ABI_TEST_SOURCES) -L$(DIST_LIBS)/linux-arm64 -lwsbridge \
	    -Wl,-rpath,$(abspath $(DIST_LIBS)/linux-arm64)

# ---- Stripped libraries, debug information beside them ----------------------------------------

# $(call split_debug,OBJCOPY,IN,OUT): OUT stripped, OUT.debug with the debug information, and a
# .gnu_debuglink in OUT naming it (gdb, lldb and crash tools find it beside the library).
split_debug = mkdir -p $(dir $(3)) && $(1) --only-keep-debug $(2) $(3).debug \
    && $(1) --strip-all --add-gnu-debuglink=$(3).debug $(2) $(3)
# Static libraries keep their symbols; only the debug sections go.
strip_static = mkdir -p $(dir $(3)) && $(1) --strip-debug $(2) $(3)

$(DIST_LIBS)/linux-x64/libwsbridge.so: $(LINUX_RELEASE)/libwsbridge.so
	$(call split_debug,objcopy,$<,$@)
$(DIST_LIBS)/linux-x64/libwsbridge.a: $(LINUX_RELEASE)/libwsbridge.a
	$(call strip_static,objcopy,$<,$@)
$(DIST_LIBS)/linux-arm64/libwsbridge.so: $(ARM64_RELEASE)/libwsbridge.so
	$(call split_debug,aarch64-linux-gnu-objcopy,$<,$@)
$(DIST_LIBS)/linux-arm64/libwsbridge.a: $(ARM64_RELEASE)/libwsbridge.a
	$(call strip_static,aarch64-linux-gnu-objcopy,$<,$@)
$(DIST_LIBS)/win-x64/wsbridge.dll: $(DIST_WIN_SDK)/wsbridge.dll
	$(call split_debug,$(WIN_OBJCOPY),$<,$@)
# The mingw static library is copied as it is: binutils cannot strip it (Rust's archive has a
# member without sections).
$(DIST_LIBS)/win-x64/%: $(DIST_WIN_SDK)/%
	@mkdir -p $(@D)
	cp $< $@

DIST_LIB_FILES := $(addprefix $(DIST_LIBS)/linux-x64/,libwsbridge.so libwsbridge.a) \
    $(addprefix $(DIST_LIBS)/linux-arm64/,libwsbridge.so libwsbridge.a) \
    $(addprefix $(DIST_LIBS)/win-x64/,wsbridge.dll libwsbridge.a wsbridge.lib wsbridge.def libwsbridge.dll.a)
dist-libs: $(DIST_LIB_FILES)

# ---- Packages --------------------------------------------------------------------------------

DIST_SDK_TREES := $(DIST_STAGE)/linux-sdk
DIST_WHEEL_SRC := $(DIST_STAGE)/python
DIST_FILES := $(DIST)/wsbridge-sdk-$(DIST_VERSION)-linux-x64.tar.gz $(DIST)/wsbridge-sdk-$(DIST_VERSION)-linux-arm64.tar.gz \
    $(DIST)/wsbridge-sdk-$(DIST_VERSION)-win-x64.zip \
    $(DIST)/com.wsbridge.unity-$(DIST_VERSION).tgz $(DIST)/WsBridge-unreal-$(DIST_VERSION).zip \
    $(DIST)/wsbridge-$(DIST_VERSION)-py3-none-any.whl $(DIST)/SHA256SUMS
LICENSE_FILES := LICENSE-MIT LICENSE-APACHE THIRD-PARTY-NOTICES.md

.PHONY: dist notices
dist: $(DIST)/SHA256SUMS
	@echo "make dist: wsbridge $(DIST_VERSION) in $(DIST)/"

# THIRD-PARTY-NOTICES.md from Cargo.lock and the trainer's Python dependencies (checked in;
# tests/dist/test_notices.py fails when it is out of date).
notices: venv
	$(PY) tools/third_party_notices.py

# The trainer package with the license files beside its pyproject.toml, named in its
# license-files, so that they land in the wheel's .dist-info/licenses.
$(DIST)/wsbridge-$(DIST_VERSION)-py3-none-any.whl: $(shell find bindings/python/src -type f) \
		bindings/python/pyproject.toml bindings/python/README.md $(LICENSE_FILES) | venv
	rm -rf $(DIST_WHEEL_SRC) && mkdir -p $(DIST_WHEEL_SRC) $(DIST)
	cp -R bindings/python/pyproject.toml bindings/python/README.md bindings/python/src $(LICENSE_FILES) $(DIST_WHEEL_SRC)/
	sed -i 's|^license = .*|&\nlicense-files = [$(foreach f,$(LICENSE_FILES),"$(f)",)]|' $(DIST_WHEEL_SRC)/pyproject.toml
	$(PY) -m pip wheel --quiet --disable-pip-version-check --no-deps -w $(DIST) $(DIST_WHEEL_SRC)

# The Linux SDK trees: `make install` (mk/install.mk) of each platform's stripped glibc 2.17
# libraries, into $(DIST_SDK_TREES)/<platform>.
$(DIST)/SHA256SUMS: $(DIST_LIB_FILES) $(DIST)/wsbridge-$(DIST_VERSION)-py3-none-any.whl $(LICENSE_FILES) \
		$(CPP_HEADERS) tools/package_dist.py $(shell find bindings/unity bindings/unreal packaging -type f)
	rm -rf $(DIST_SDK_TREES) $(filter-out %.whl,$(DIST_FILES))
	for platform in linux-x64 linux-arm64; do \
	  $(MAKE) --no-print-directory install DESTDIR=$(abspath $(DIST_SDK_TREES))/$$platform PREFIX=/usr/local \
	    RELEASE_LIB=$(abspath $(DIST_LIBS))/$$platform && \
	  mv $(DIST_SDK_TREES)/$$platform/usr/local $(DIST_SDK_TREES)/$$platform.tree && \
	  rm -rf $(DIST_SDK_TREES)/$$platform && mv $(DIST_SDK_TREES)/$$platform.tree $(DIST_SDK_TREES)/$$platform; \
	done
	$(PY) tools/package_dist.py $(DIST_VERSION) $(DIST_LIBS) $(DIST_SDK_TREES) $(DIST)

# ---- Tests -----------------------------------------------------------------------------------

DIST_CONSUMER := $(DIST_STAGE)/consumer

.PHONY: test-dist test-dist-unity
# The binaries, the versions and the notices; then every package as a user would use it
# (tests/dist/test_packages.py: C through pkg-config and CMake, the DLL under Wine, the wheel).
test-dist: $(DIST)/SHA256SUMS $(DIST_WIN_TESTS)/bcryptprimitives.dll $(DIST_WINE_INIT) $(DIST_STAGE)/arm64/abi_test \
		test-dist-unity venv | deps
	WSB_ARM64_ABI_TEST=$(abspath $(DIST_STAGE)/arm64/abi_test) WSB_DIST_LIBS=$(abspath $(DIST_LIBS)) WSB_DIST=$(abspath $(DIST)) WSB_WINDOWS_TESTS=$(abspath $(WIN_TESTS)) \
	WSB_WINE="$(WINE)" WSB_WINESERVER=$(WINESERVER) WINEPREFIX=$(WINE_PREFIX) $(PY) -m pytest -q tests/dist

# The Unity package's C# suite (tests/csharp) under Mono: the package's Runtime/ compiled from
# the unpacked tarball, the library taken from its Plugins folder.
test-dist-unity: $(DIST)/SHA256SUMS $(CSHARP_TESTS) venv | mono-install
	rm -rf $(DIST_CONSUMER)/unity && mkdir -p $(DIST_CONSUMER)/unity/csharp
	tar -C $(DIST_CONSUMER)/unity -xzf $(DIST)/com.wsbridge.unity-$(DIST_VERSION).tgz
	$(MCS) -unsafe -target:library -out:$(DIST_CONSUMER)/unity/csharp/Wsbridge.dll \
	    $$(ls $(DIST_CONSUMER)/unity/package/Runtime/*.cs | sort)
	$(MCS) -r:$(DIST_CONSUMER)/unity/csharp/Wsbridge.dll -out:$(DIST_CONSUMER)/unity/csharp/WsbridgeTests.exe $(CSHARP_TESTS)
	ln -s ../package/Plugins/runtimes/linux-x64/native/libwsbridge.so $(DIST_CONSUMER)/unity/csharp/libwsbridge.so
	WSB_BUILD_DIR=$(abspath $(DIST_CONSUMER)/unity) $(PY) -m pytest -q tests/csharp/test_unity_csharp.py

TEST_TARGETS += test-dist

.PHONY: clean-dist
clean: clean-dist
clean-dist:
	rm -rf $(DIST)
