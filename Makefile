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
C_TEST_COMMON := tests/c/common/harness.c tests/c/common/proc.c
C_TEST_COMMON_DEPS := $(C_TEST_COMMON) $(wildcard tests/c/common/*.h) include/wsbridge.h
ABI_TEST_SOURCES := tests/c/abi_test.c $(C_TEST_COMMON)

# $(call apt_install,PKG...): installs the Debian packages that are missing (as root; otherwise
# fails naming them). `apt-get update` runs once per build tree. Used by the mk/ fragments.
APT_STAMP := $(BUILD)/.apt-updated
define apt_install
missing=""; for p in $(1); do dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" != 0 ]; then echo "error: missing Debian packages:$$missing (run make as root or install them)"; exit 1; fi; \
  if [ ! -f $(APT_STAMP) ]; then apt-get update -qq; mkdir -p $(BUILD); touch $(APT_STAMP); fi; \
  echo "installing Debian packages:$$missing"; \
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
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

.PHONY: all build release header venv test test-rust test-lint test-c demo demo-seed clean

all: build

build: $(DEBUG_LIB)/libwsbridge.so
release: $(RELEASE_LIB)/libwsbridge.so

$(DEBUG_LIB)/libwsbridge.so $(DEBUG_LIB)/libwsbridge.a &: $(RUST_SOURCES)
	$(CARGO) build --lib
	@touch $(DEBUG_LIB)/libwsbridge.so $(DEBUG_LIB)/libwsbridge.a

$(RELEASE_LIB)/libwsbridge.so $(RELEASE_LIB)/libwsbridge.a &: $(RUST_SOURCES)
	$(CARGO) build --lib --release
	@touch $(RELEASE_LIB)/libwsbridge.so $(RELEASE_LIB)/libwsbridge.a

# Regenerate include/wsbridge.h from the rustdoc in src/ffi (cbindgen, pinned in Cargo.toml).
header:
	WSB_BLESS=1 $(CARGO) test --test header

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

C_TESTS := $(BUILD)/tests/abi_test_shared $(BUILD)/tests/abi_test_static
C_EXAMPLES := $(BUILD)/examples/client $(BUILD)/examples/threads

# ---- Tests -------------------------------------------------------------------------------

test: test-lint test-rust test-c $(TEST_TARGETS)
	@echo "make test: all tests passed"

test-lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

# Unit tests, Rust integration tests against an in-process server, and the header drift check.
test-rust:
	$(CARGO) test

# The C ABI from C (shared and static), against real Python websockets servers.
test-c: $(C_TESTS) $(C_EXAMPLES) venv
	$(PY) -m pytest -q tests/interop

# ---- Demo --------------------------------------------------------------------------------

demo: demo-seed $(DEMO_TARGETS)

# The seed programs (C, and whatever the fragments add) against examples/python/trainer.py.
demo-seed: $(C_EXAMPLES) $(SEED_DEPS) venv
	$(PY) tools/demo_seed.py $(SEED_DEMOS)

clean:
	rm -rf $(BUILD) target $(VENV)
