# wsbridge: `make demo` shows it working, `make test` runs every test. See README.md.
#
# Everything a fresh machine lacks is installed here: a Python virtual environment (.venv) for
# the servers and tests, and Debian packages when run as root. Nothing is skipped silently: a
# missing dependency stops the build with its name.

SHELL        := /bin/bash
.SHELLFLAGS  := -eu -o pipefail -c
.DEFAULT_GOAL := all

CARGO   ?= cargo
CC      ?= cc
PYTHON  ?= python3
BUILD   := build
VENV    := .venv
PY      := $(VENV)/bin/python
DEBUG_LIB   := $(abspath target/debug)
RELEASE_LIB := $(abspath target/release)

CFLAGS_STRICT := -std=c11 -Wall -Wextra -Werror -pthread -Iinclude
# What a static link of the Rust library also needs on Linux
# (`cargo rustc --crate-type staticlib -- --print native-static-libs`).
NATIVE_LIBS := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

RUST_SOURCES := Cargo.toml Cargo.lock cbindgen.toml $(shell find src -name '*.rs')

# The helpers every C test program shares (checks, clock, /proc readings, server addresses).
C_TEST_COMMON := tests/common/c/harness.c tests/common/c/proc.c
C_TEST_COMMON_DEPS := $(C_TEST_COMMON) $(wildcard tests/common/c/*.h) include/wsbridge.h
ABI_TEST_SOURCES := tests/interop/abi_test.c $(C_TEST_COMMON)

# ---- Debian packages: `make deps` --------------------------------------------------------
#
# DEBIAN_PACKAGES: every Debian package the tests need, each added by the fragment in mk/ whose
# tests use it. `make deps` prints the list and installs what is missing (as root); `make test`
# runs it first. Without root it prints the apt-get command and fails if anything is missing.
# Targets that need some of these packages depend on `deps` (so that `make test-unity` alone
# works too); no rule installs a package of its own.
DEBIAN_PACKAGES :=

# $(call apt_install,WHAT,PKG...): installs the Debian packages PKG that are missing (as root;
# otherwise prints the apt-get command and fails). `apt-get update` runs once per build tree.
# Another apt or dpkg run holding the package lock is waited for (up to APT_LOCK_WAIT seconds),
# not failed on.
APT_LOCK_WAIT ?= 600
APT_STAMP := $(BUILD)/.apt-updated
define apt_install
echo "$(1): Debian packages: $(2)"; \
missing=""; for p in $(2); do dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
if [ -z "$$missing" ]; then echo "$(1): all installed"; \
else \
  if [ "$$(id -u)" != 0 ]; then \
    echo "error: missing Debian packages:$$missing. Install them as root:"; \
    echo "  apt-get install -y --no-install-recommends$$missing"; exit 1; fi; \
  if [ ! -f $(APT_STAMP) ]; then apt-get -o DPkg::Lock::Timeout=$(APT_LOCK_WAIT) update -qq; mkdir -p $(BUILD); touch $(APT_STAMP); fi; \
  echo "$(1): installing$$missing"; \
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=$(APT_LOCK_WAIT) install -y -qq --no-install-recommends $$missing >/dev/null; \
fi
endef

# Registered by the makefile fragments in mk/ (one per binding or concern):
#   TEST_TARGETS  extra targets `make test` runs
#   DEMO_TARGETS  extra targets `make demo` runs
#   SEED_DEMOS    commands run by `make demo-seed` against the example trainer ({port} is replaced)
#   SEED_DEPS     what those commands need built first
TEST_TARGETS :=
DEMO_TARGETS :=
SEED_DEMOS := '$(BUILD)/examples/client {port}' '$(BUILD)/examples/threads {port} 3'
SEED_DEPS :=
-include mk/*.mk

.PHONY: all build release generate header venv deps test test-rust test-lint test-c demo demo-seed clean

deps:
	@$(call apt_install,make deps,$(sort $(DEBIAN_PACKAGES)))

all: build

build: $(DEBUG_LIB)/libwsbridge.so
release: $(RELEASE_LIB)/libwsbridge.so

$(DEBUG_LIB)/libwsbridge.so $(DEBUG_LIB)/libwsbridge.a &: $(RUST_SOURCES)
	$(CARGO) build --lib
	@touch $(DEBUG_LIB)/libwsbridge.so $(DEBUG_LIB)/libwsbridge.a

$(RELEASE_LIB)/libwsbridge.so $(RELEASE_LIB)/libwsbridge.a &: $(RUST_SOURCES)
	$(CARGO) build --lib --release
	@touch $(RELEASE_LIB)/libwsbridge.so $(RELEASE_LIB)/libwsbridge.a

# Regenerate the files made from the Rust source (tests/generated checks that they are up to date):
# include/wsbridge.h (cbindgen, pinned in Cargo.toml, from the rustdoc in src/ffi), the Unity
# binding's NativeMethods.g.cs and WsResult.g.cs, the Unreal plugin's WsBridgeResult.h and
# WsBridgeResultChecks.h. See docs/architecture.md.
generate:
	WSB_BLESS=1 $(CARGO) test --test generated
header: generate

# ---- Python environment ------------------------------------------------------------------

venv: $(VENV)/.stamp
$(VENV)/.stamp: requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) is required (Python 3.11+)"; exit 1; }
	$(PYTHON) -m venv $(VENV) || { echo "error: cannot create a virtual environment: install python3-venv"; exit 1; }
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# ---- C programs --------------------------------------------------------------------------

# $(call c_shared,OUT,SOURCES,LIBDIR) and $(call c_static,...): one C program linked against
# the shared library (found through its rpath) or the static one.
c_shared = mkdir -p $(dir $(1)) && $(CC) $(CFLAGS_STRICT) -o $(1) $(2) -L$(3) -Wl,-rpath,$(3) -lwsbridge
c_static = mkdir -p $(dir $(1)) && $(CC) $(CFLAGS_STRICT) -o $(1) $(2) $(3)/libwsbridge.a $(NATIVE_LIBS)

$(BUILD)/tests/abi_test_shared: $(ABI_TEST_SOURCES) $(C_TEST_COMMON_DEPS) $(DEBUG_LIB)/libwsbridge.so
	$(call c_shared,$@,$(ABI_TEST_SOURCES),$(DEBUG_LIB))
$(BUILD)/tests/abi_test_static: $(ABI_TEST_SOURCES) $(C_TEST_COMMON_DEPS) $(DEBUG_LIB)/libwsbridge.a
	$(call c_static,$@,$(ABI_TEST_SOURCES),$(DEBUG_LIB))
$(BUILD)/examples/%: examples/c/%.c include/wsbridge.h $(RELEASE_LIB)/libwsbridge.so
	$(call c_shared,$@,$<,$(RELEASE_LIB))

# The background-thread guarantee, linked shared, static, and dlopen()ed. It defines its own
# getaddrinfo, which the library must bind to: -rdynamic exports it to a dlopen()ed library.
STOP_TEST_SOURCES := tests/interop/stop_test.c tests/common/c/proc.c
STOP_TEST_DEPS := $(STOP_TEST_SOURCES) tests/common/c/proc.h include/wsbridge.h
$(BUILD)/tests/stop_test_shared: $(STOP_TEST_DEPS) $(DEBUG_LIB)/libwsbridge.so
	$(call c_shared,$@,$(STOP_TEST_SOURCES) -rdynamic -ldl,$(DEBUG_LIB))
$(BUILD)/tests/stop_test_static: $(STOP_TEST_DEPS) $(DEBUG_LIB)/libwsbridge.a
	$(call c_static,$@,$(STOP_TEST_SOURCES) -rdynamic,$(DEBUG_LIB))
$(BUILD)/tests/stop_test_dlopen: $(STOP_TEST_DEPS)
	mkdir -p $(dir $@) && $(CC) $(CFLAGS_STRICT) -DSTOP_TEST_DLOPEN -rdynamic -o $@ $(STOP_TEST_SOURCES) -ldl

# The `reconnect` option and wsb_close_async (tests/interop/test_reconnect.py drives them).
RECONNECT_TEST_SOURCES := tests/interop/reconnect_test.c $(C_TEST_COMMON)
$(BUILD)/tests/reconnect_test_shared: $(RECONNECT_TEST_SOURCES) $(C_TEST_COMMON_DEPS) $(DEBUG_LIB)/libwsbridge.so
	$(call c_shared,$@,$(RECONNECT_TEST_SOURCES),$(DEBUG_LIB))
$(BUILD)/tests/reconnect_test_static: $(RECONNECT_TEST_SOURCES) $(C_TEST_COMMON_DEPS) $(DEBUG_LIB)/libwsbridge.a
	$(call c_static,$@,$(RECONNECT_TEST_SOURCES),$(DEBUG_LIB))

C_TESTS := $(BUILD)/tests/abi_test_shared $(BUILD)/tests/abi_test_static \
	$(BUILD)/tests/reconnect_test_shared $(BUILD)/tests/reconnect_test_static \
	$(BUILD)/tests/stop_test_shared $(BUILD)/tests/stop_test_static $(BUILD)/tests/stop_test_dlopen
C_EXAMPLES := $(BUILD)/examples/client $(BUILD)/examples/threads

# ---- Tests -------------------------------------------------------------------------------

# `deps` first: the Debian packages, installed (or reported missing) before anything is built.
test: deps test-lint test-rust test-c $(TEST_TARGETS)
	@echo "make test: all tests passed"

# Clippy also for Windows: code that only Unix uses (the direct waits) must not leave dead code
# warnings in the Windows build.
test-lint: | windows-tools
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy --all-targets --target $(WIN_TARGET) -- -D warnings

# Unit tests, Rust integration tests against an in-process server, and the header drift check.
test-rust:
	$(CARGO) test

# The C ABI from C (shared and static), against real Python websockets servers.
test-c: $(C_TESTS) $(C_EXAMPLES) venv
	$(PY) -m pytest -q tests/interop

# `make TARGET` (default: test) N times in a row, stopping at the first failure; LOAD=1 keeps
# both cores busy meanwhile with two bounded busy loops. Logs in build/repeat/TARGET/.
N ?= 10
LOAD ?= 0
TARGET ?= test
.PHONY: test-repeat
test-repeat:
	MAKE="$(MAKE)" tools/test_repeat.sh $(N) $(LOAD) $(TARGET) $(BUILD)/repeat/$(TARGET)

# Only the background-thread guarantee (tests/interop/stop_test.c), each case STOP_ROUNDS times.
STOP_ROUNDS ?= 10
.PHONY: test-stop
test-stop: $(C_TESTS) venv
	WSB_STOP_ROUNDS=$(STOP_ROUNDS) $(PY) -m pytest -q tests/interop/test_stop.py

# ---- Demo --------------------------------------------------------------------------------

demo: demo-seed $(DEMO_TARGETS)

# The seed programs (C, and whatever the fragments add) against examples/python/trainer.py.
demo-seed: $(C_EXAMPLES) $(SEED_DEPS) venv
	$(PY) tools/demo_seed.py $(SEED_DEMOS)

clean:
	rm -rf $(BUILD) target $(VENV)
