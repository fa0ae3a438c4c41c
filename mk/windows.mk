# Windows x86_64: wsbridge.dll cross-built with mingw-w64, and tested under Wine on every
# `make test`. Debian's mingw-w64 and wine64 come from `make deps`; Rust's x86_64-pc-windows-gnu
# target is added here the first time.
#
#   make windows        build/windows/sdk: wsbridge.dll, wsbridge.lib (an import library made by
#                       dlltool from the DLL's export list, for MSVC's linker and Unreal; MSVC
#                       itself is not run here), libwsbridge.dll.a and libwsbridge.a (mingw)
#   make test-windows   the C ABI suite (tests/interop/abi_test.c) and the fault cases
#                       (tests/fault/fault_test) built with mingw against that DLL, run under Wine against
#                       the Python servers on 127.0.0.1                   (part of `make test`)
#
# Wine runs headless (no X display): WINEDEBUG=-all, its own prefix under build/windows, which
# `wineboot` initialises once (the time it takes is printed). Rust's standard library imports
# ProcessPrng from bcryptprimitives.dll, which Wine 8 lacks: the tests build a small stand-in
# (tests/windows/bcryptprimitives.c) beside their programs. It is never shipped.

WIN_TARGET    := x86_64-pc-windows-gnu
WIN_RELEASE   := $(abspath target/$(WIN_TARGET)/release)
WIN_BUILD     := $(BUILD)/windows
WIN_SDK       := $(WIN_BUILD)/sdk
WIN_TESTS     := $(WIN_BUILD)/tests
WIN_CC        := x86_64-w64-mingw32-gcc
WIN_DLLTOOL   := x86_64-w64-mingw32-dlltool
WIN_OBJDUMP   := x86_64-w64-mingw32-objdump
WIN_OBJCOPY   := x86_64-w64-mingw32-objcopy
# Every Wine program runs with Linux's address-space randomisation off (for it and its
# children): Debian's wine64 8.0 has no preloader, and a randomised heap could cover the address
# Windows keeps for KUSER_SHARED_DATA, so Wine failed to start about 1 program in 4,300
# (docs/reliability.md, bug 9).
WINE          := setarch x86_64 --addr-no-randomize /usr/lib/wine/wine64
WINESERVER    := /usr/lib/wine/wineserver64
WINE_PREFIX   := $(abspath $(WIN_BUILD)/wineprefix)
WIN_PACKAGES  := gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 wine64
# What a static link of the Rust library needs on Windows (`cargo rustc --target
# x86_64-pc-windows-gnu --crate-type staticlib -- --print native-static-libs`).
WIN_NATIVE_LIBS := -lws2_32 -lbcrypt -lntdll -luserenv -lsecur32 -lcrypt32 -ladvapi32 -lkernel32
# The test programs: static C runtime and winpthreads (no mingw DLLs to carry along).
WIN_CFLAGS    := -std=c11 -Wall -Wextra -Werror -pthread -Iinclude -static

.PHONY: windows windows-tools test-windows

DEBIAN_PACKAGES += $(WIN_PACKAGES)
windows-tools: deps
	@rustup target list --installed | grep -qx $(WIN_TARGET) || rustup target add $(WIN_TARGET) \
	  || { echo "error: 'rustup target add $(WIN_TARGET)' failed"; exit 1; }

$(WIN_RELEASE)/wsbridge.dll $(WIN_RELEASE)/libwsbridge.dll.a $(WIN_RELEASE)/libwsbridge.a &: $(RUST_SOURCES) | windows-tools
	CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=$(WIN_CC) $(CARGO) build --lib --release --target $(WIN_TARGET)
	@touch $(WIN_RELEASE)/wsbridge.dll $(WIN_RELEASE)/libwsbridge.dll.a $(WIN_RELEASE)/libwsbridge.a

# The module-definition file lists what the DLL exports; dlltool turns it into wsbridge.lib.
$(WIN_SDK)/wsbridge.def: $(WIN_RELEASE)/wsbridge.dll
	@mkdir -p $(@D)
	{ echo "LIBRARY wsbridge.dll"; echo "EXPORTS"; \
	  $(WIN_OBJDUMP) -p $< | sed -n '/^\[Ordinal\/Name Pointer\] Table/,/^$$/s/^\t\[ *[0-9]*\] /    /p'; } > $@
	@grep -q '^    wsb_' $@ || { echo "error: no exports found in $<"; exit 1; }

$(WIN_SDK)/wsbridge.lib: $(WIN_SDK)/wsbridge.def
	$(WIN_DLLTOOL) -m i386:x86-64 -d $< -D wsbridge.dll -l $@

WIN_SDK_FILES := $(addprefix $(WIN_SDK)/,wsbridge.dll wsbridge.lib wsbridge.def libwsbridge.dll.a libwsbridge.a)
$(WIN_SDK)/wsbridge.dll $(WIN_SDK)/libwsbridge.dll.a $(WIN_SDK)/libwsbridge.a: $(WIN_SDK)/%: $(WIN_RELEASE)/%
	@mkdir -p $(@D)
	cp $< $@

windows: $(WIN_SDK_FILES)

# ---- Tests under Wine -----------------------------------------------------------------------

$(WINE_PREFIX)/.initialised: | windows-tools
	@rm -rf $(WINE_PREFIX) && mkdir -p $(WINE_PREFIX)
	@start=$$(date +%s%N); \
	env -u DISPLAY WINEPREFIX=$(WINE_PREFIX) WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" \
	  $(WINE) wineboot --init </dev/null >$(WIN_BUILD)/wineboot.log 2>&1 \
	  || { cat $(WIN_BUILD)/wineboot.log; echo "error: wineboot --init failed"; exit 1; }; \
	env WINEPREFIX=$(WINE_PREFIX) $(WINESERVER) -w; \
	echo "Wine prefix $(WINE_PREFIX) initialised in $$(( ($$(date +%s%N) - start) / 1000000 )) ms"
	@touch $@

$(WIN_TESTS)/bcryptprimitives.dll: tests/windows/bcryptprimitives.c | windows-tools
	@mkdir -p $(@D)
	$(WIN_CC) -Wall -Wextra -Werror -shared -o $@ $< -ladvapi32

$(WIN_TESTS)/wsbridge.dll: $(WIN_SDK)/wsbridge.dll
	@mkdir -p $(@D)
	cp $< $@

# Linked through wsbridge.lib, the import library shipped for MSVC: GNU ld reads it too.
$(WIN_TESTS)/abi_test.exe: $(ABI_TEST_SOURCES) $(C_TEST_COMMON_DEPS) $(WIN_SDK)/wsbridge.lib
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_CFLAGS) -o $@ $(ABI_TEST_SOURCES) $(WIN_SDK)/wsbridge.lib -lws2_32 -lpsapi
$(WIN_TESTS)/fault_test.exe: $(FAULT_DEPS) $(WIN_SDK)/wsbridge.lib
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_CFLAGS) -o $@ $(FAULT_SOURCES) $(WIN_SDK)/wsbridge.lib -lws2_32 -lpsapi
# The static library too (mingw users link it): the version case is enough to show it links.
$(WIN_TESTS)/abi_test_static.exe: $(ABI_TEST_SOURCES) $(C_TEST_COMMON_DEPS) $(WIN_SDK)/libwsbridge.a
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_CFLAGS) -o $@ $(ABI_TEST_SOURCES) $(WIN_SDK)/libwsbridge.a $(WIN_NATIVE_LIBS) -lpsapi

WIN_TEST_FILES := $(addprefix $(WIN_TESTS)/,abi_test.exe abi_test_static.exe fault_test.exe wsbridge.dll bcryptprimitives.dll)

test-windows: $(WIN_TEST_FILES) $(WINE_PREFIX)/.initialised venv
	WSB_WINDOWS_TESTS=$(abspath $(WIN_TESTS)) WSB_WINE="$(WINE)" WSB_WINESERVER=$(WINESERVER) \
	WINEPREFIX=$(WINE_PREFIX) $(PY) -m pytest -q tests/fault/test_windows.py

TEST_TARGETS += test-windows

# `make` builds the Windows SDK files too.
all: windows
