# C++: the header-only wrapper (bindings/cpp/wsbridge.hpp), its tests, the C++ seed client, the
# install test (mk/install.mk) and the staging of the Unreal plugin (bindings/unreal/WsBridge).
#
#   make test-cpp        the wrapper against a Python websockets server, `make install` used
#                        through pkg-config and CMake, the wrapper/plugin/header consistency,
#                        the C++ cart-pole (wsbridge::Env) trained by RemoteVectorEnv and run
#                        through the trainer package's game tests
#   make unreal-plugin   a drop-in copy of the plugin with the headers and the Linux library
#                        in $(UNREAL_PLUGIN_DIR) (default build/unreal/WsBridge)

CXX ?= g++
CPP_BUILD := $(BUILD)/cpp
CPP_HEADERS := include/wsbridge.h bindings/cpp/wsbridge.hpp bindings/cpp/wsbridge_env.hpp
# g++ and clang++ compile the wrapper; cmake and pkgconf consume `make install` (tests/cpp/test_install.py).
DEBIAN_PACKAGES += g++ clang cmake pkgconf

# What Unreal compiles with (no exceptions, no RTTI), as errors; then what clang users turn on.
CXXFLAGS_WSB := -std=c++17 -Wall -Wextra -Werror -fno-exceptions -fno-rtti -pthread -Iinclude -Ibindings/cpp
CXXFLAGS_WSB_STRICT := -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast -Wcast-qual \
    -Wnon-virtual-dtor -Woverloaded-virtual -Wundef -Wzero-as-null-pointer-constant -Wformat=2

# Macros that Unreal (check, verify, ensure) and windows.h (min, max, small, near, far,
# interface, ERROR) define: the wrapper must compile with all of them in force.
HOSTILE_MACROS := '-Dcheck(x)=((void)0)' '-Dverify(x)=((void)0)' '-Densure(x)=((void)0)' \
    '-Dmin(a,b)=0' '-Dmax(a,b)=0' -Dsmall=char -Dnear= -Dfar= -Dinterface=struct -DERROR=0

# $(call cxx_shared,OUT,SOURCES,LIBDIR,EXTRA_FLAGS): c_shared (Makefile) for a C++ program.
cxx_shared = mkdir -p $(dir $(1)) && $(CXX) $(CXXFLAGS_WSB) $(4) -o $(1) $(2) -L$(3) -Wl,-rpath,$(3) -lwsbridge

$(CPP_BUILD)/tests/wrapper_test: tests/cpp/wrapper_test.cpp $(CPP_HEADERS) $(DEBUG_LIB)/libwsbridge.so
	$(call cxx_shared,$@,$<,$(DEBUG_LIB),$(CXXFLAGS_WSB_STRICT))

# The header on its own (self-contained), as C++17 and C++20 (Unreal 5.3+), under the
# hostile macros, with g++ and with clang++ (Unreal's compiler except on Windows).
CLANG_EXTRA := -Wshadow-all -Wextra-semi -Wdocumentation -Wcomma -Wimplicit-fallthrough
$(CPP_BUILD)/header-checks.stamp: $(CPP_HEADERS) mk/cpp.mk | deps
	@mkdir -p $(dir $@)
	for std in c++17 c++20; do \
	  for h in bindings/cpp/wsbridge.hpp bindings/cpp/wsbridge_env.hpp; do \
	    $(CXX) $(CXXFLAGS_WSB) $(CXXFLAGS_WSB_STRICT) -std=$$std $(HOSTILE_MACROS) -fsyntax-only -x c++ $$h || exit 1; \
	    clang++ $(CXXFLAGS_WSB) $(CXXFLAGS_WSB_STRICT) $(CLANG_EXTRA) -std=$$std $(HOSTILE_MACROS) -fsyntax-only -x c++ $$h || exit 1; \
	  done; \
	done
	@touch $@

$(CPP_BUILD)/examples/client: examples/cpp/client.cpp $(CPP_HEADERS) $(RELEASE_LIB)/libwsbridge.so
	$(call cxx_shared,$@,$<,$(RELEASE_LIB))

# The C++ cartpole (wsbridge::Env) on the C game's physics, and the C++ conformance game
# (tests/conformance/spaces_game.cpp); both trained or checked by the trainer package.
$(CPP_BUILD)/cartpole_physics.o: examples/game/cartpole.c examples/game/cartpole.h
	mkdir -p $(dir $@) && $(CC) $(CFLAGS_STRICT) -c -o $@ $<
$(CPP_BUILD)/examples/cartpole: examples/cpp/cartpole.cpp $(CPP_BUILD)/cartpole_physics.o $(CPP_HEADERS) $(RELEASE_LIB)/libwsbridge.so
	$(call cxx_shared,$@,$< $(CPP_BUILD)/cartpole_physics.o -lm,$(RELEASE_LIB),-Iexamples/game $(CXXFLAGS_WSB_STRICT))
$(CPP_BUILD)/tests/conformance_game: tests/conformance/spaces_game.cpp $(CPP_HEADERS) $(DEBUG_LIB)/libwsbridge.so
	$(call cxx_shared,$@,$<,$(DEBUG_LIB),$(CXXFLAGS_WSB_STRICT))
CONFORMANCE_DEPS += $(CPP_BUILD)/tests/conformance_game
$(CPP_BUILD)/tests/env_alloc_test: tests/cpp/env_alloc_test.cpp $(CPP_HEADERS) $(DEBUG_LIB)/libwsbridge.so
	$(call cxx_shared,$@,$<,$(DEBUG_LIB),$(CXXFLAGS_WSB_STRICT))

# ---- Unreal plugin --------------------------------------------------------------------------

UNREAL_PLUGIN_DIR ?= $(BUILD)/unreal/WsBridge
UNREAL_THIRD_PARTY = $(UNREAL_PLUGIN_DIR)/Source/ThirdParty/WsBridgeLibrary

.PHONY: unreal-plugin test-cpp
unreal-plugin: $(CPP_HEADERS) $(RELEASE_LIB)/libwsbridge.so
	rm -rf $(UNREAL_PLUGIN_DIR)
	mkdir -p $(dir $(UNREAL_PLUGIN_DIR))
	cp -R bindings/unreal/WsBridge $(UNREAL_PLUGIN_DIR)
	install -D -m 0644 include/wsbridge.h $(UNREAL_THIRD_PARTY)/include/wsbridge.h
	install -D -m 0644 bindings/cpp/wsbridge.hpp $(UNREAL_THIRD_PARTY)/include/wsbridge.hpp
	install -D -m 0644 bindings/cpp/wsbridge_env.hpp $(UNREAL_THIRD_PARTY)/include/wsbridge_env.hpp
	install -D -m 0755 $(RELEASE_LIB)/libwsbridge.so $(UNREAL_PLUGIN_DIR)/Binaries/ThirdParty/WsBridgeLibrary/Linux/libwsbridge.so
	@echo "Unreal plugin with the Linux library: $(UNREAL_PLUGIN_DIR) (copy it to <Project>/Plugins/WsBridge)"

# ---- Tests and demo -------------------------------------------------------------------------

test-cpp: $(CPP_BUILD)/tests/wrapper_test $(CPP_BUILD)/header-checks.stamp $(CPP_BUILD)/examples/client \
          $(CPP_BUILD)/examples/cartpole $(BUILD)/game/cartpole $(CPP_BUILD)/tests/env_alloc_test $(RELEASE_LIB)/libwsbridge.a venv $$(PY_PACKAGE) | deps
	WSB_CPP_BUILD_DIR=$(abspath $(CPP_BUILD)) WSB_C_CARTPOLE=$(abspath $(BUILD)/game/cartpole) \
	  $(PY) -m pytest -q tests/cpp
	# The trainer package's own game tests, with the C++ cart-pole as the game.
	WSB_GAME=$(abspath $(CPP_BUILD)/examples/cartpole) $(PY) -m pytest -q -p no:cacheprovider tests/python

TEST_TARGETS += test-cpp
SEED_DEMOS += '$(CPP_BUILD)/examples/client {port}'
SEED_DEPS += $(CPP_BUILD)/examples/client
