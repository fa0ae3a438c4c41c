# Reliability evidence for the C ABI: docs/reliability.md says what each target shows.
#
#   make test      runs test-reliability too: the fault suite against misbehaving servers,
#                  and the C programs under valgrind memcheck and built with ASan/UBSan
#   make sanitize  ThreadSanitizer over the Rust tests and the C close race (nightly Rust)
#   make fuzz      the cargo-fuzz targets in fuzz/, FUZZ_SECONDS each (nightly Rust)
#   make soak      SOAK_CONNECTIONS x SOAK_MESSAGES against a Python trainer, and a 60 s
#                  keepalive run against a server with the websockets defaults

REL := $(BUILD)/reliability
REL_CFLAGS := $(CFLAGS_STRICT) -g
SANITIZE_C := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FAULT_SOURCES := $(wildcard tests/fault/fault_test/*.c) $(C_TEST_COMMON)
FAULT_DEPS := $(FAULT_SOURCES) $(C_TEST_COMMON_DEPS)

# $(call rel_link,OUT,SOURCES,LIBDIR,EXTRA_CFLAGS): a C program linked against libwsbridge.so.
rel_link = mkdir -p $(dir $(1)) && $(CC) $(REL_CFLAGS) $(4) -o $(1) $(2) -L$(3) -Wl,-rpath,$(3) -lwsbridge
# $(call rel_plain,OUT,SOURCE,EXTRA_CFLAGS): a C program that does not link the library.
rel_plain = mkdir -p $(dir $(1)) && $(CC) $(REL_CFLAGS) $(3) -o $(1) $(2) -ldl

$(REL)/fault_test: $(FAULT_DEPS) $(DEBUG_LIB)/libwsbridge.so
	$(call rel_link,$@,$(FAULT_SOURCES),$(DEBUG_LIB),)
$(REL)/fault_test_release: $(FAULT_DEPS) $(RELEASE_LIB)/libwsbridge.so
	$(call rel_link,$@,$(FAULT_SOURCES),$(RELEASE_LIB),)
$(REL)/fault_test_asan: $(FAULT_DEPS) $(DEBUG_LIB)/libwsbridge.so
	$(call rel_link,$@,$(FAULT_SOURCES),$(DEBUG_LIB),$(SANITIZE_C))
$(REL)/abi_test_release: $(ABI_TEST_SOURCES) $(C_TEST_COMMON_DEPS) $(RELEASE_LIB)/libwsbridge.so
	$(call rel_link,$@,$(ABI_TEST_SOURCES),$(RELEASE_LIB),)
$(REL)/abi_test_asan: $(ABI_TEST_SOURCES) $(C_TEST_COMMON_DEPS) $(DEBUG_LIB)/libwsbridge.so
	$(call rel_link,$@,$(ABI_TEST_SOURCES),$(DEBUG_LIB),$(SANITIZE_C))
DLOPEN_SOURCES := tests/fault/dlopen_test.c tests/common/c/proc.c
$(REL)/dlopen_test: $(DLOPEN_SOURCES) tests/common/c/proc.h include/wsbridge.h
	$(call rel_plain,$@,$(DLOPEN_SOURCES),)
$(REL)/dlopen_test_asan: $(DLOPEN_SOURCES) tests/common/c/proc.h include/wsbridge.h
	$(call rel_plain,$@,$(DLOPEN_SOURCES),$(SANITIZE_C))
$(REL)/canary: tests/fault/canary.c
	$(call rel_plain,$@,$<,)
$(REL)/canary_asan: tests/fault/canary.c
	$(call rel_plain,$@,$<,$(SANITIZE_C))

RELIABILITY_PROGRAMS := $(addprefix $(REL)/,fault_test fault_test_release fault_test_asan \
	abi_test_release abi_test_asan dlopen_test dlopen_test_asan canary canary_asan)

.PHONY: test-reliability reliability-tools
TEST_TARGETS += test-reliability

DEBIAN_PACKAGES += valgrind
reliability-tools: deps

# The libraries are prerequisites: dlopen_test loads them by path.
test-reliability: reliability-tools $(RELIABILITY_PROGRAMS) $(DEBUG_LIB)/libwsbridge.so \
		$(RELEASE_LIB)/libwsbridge.so venv
	WSB_BUILD_DIR=$(abspath $(BUILD)) WSB_DEBUG_LIB=$(DEBUG_LIB) WSB_RELEASE_LIB=$(RELEASE_LIB) \
		$(PY) -m pytest -q tests/fault/test_faults.py tests/fault/test_memory.py

# ---- make soak ---------------------------------------------------------------------------------

SOAK_CONNECTIONS ?= 200
SOAK_MESSAGES ?= 10000
SOAK_SEED ?= 20261127
SOAK_IDLE_MS ?= 60000

SOAK_SOURCES := tests/soak/soak.c tests/common/c/proc.c
$(REL)/soak: $(SOAK_SOURCES) tests/common/c/proc.h include/wsbridge.h $(RELEASE_LIB)/libwsbridge.so
	$(call rel_link,$@,$(SOAK_SOURCES),$(RELEASE_LIB),-O2)

.PHONY: soak
soak: $(REL)/soak $(REL)/fault_test venv
	$(PY) tests/soak/soak.py $(REL) $(SOAK_CONNECTIONS) $(SOAK_MESSAGES) $(SOAK_SEED) $(SOAK_IDLE_MS)

# ---- nightly Rust: make fuzz, make sanitize ----------------------------------------------------

# rustup installs the nightly toolchain (and, for -Zbuild-std, its standard library source) the
# first time; when that download fails the target fails, naming what is missing.
NIGHTLY_FAILED = echo "error: make $@ needs the nightly Rust toolchain$(1), and '$(2)' failed (output above)"; exit 1
define need_nightly
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal \
	|| { $(call NIGHTLY_FAILED,,rustup toolchain install nightly --profile minimal); }
endef
define need_nightly_src
rustup component list --toolchain nightly --installed | grep -q '^rust-src' \
	|| rustup component add rust-src --toolchain nightly \
	|| { $(call NIGHTLY_FAILED, with rust-src,rustup component add rust-src --toolchain nightly); }
endef

FUZZ_SECONDS ?= 120
FUZZ_TARGETS := abi_calls peer_bytes handshake_response trainer_request
HOST_TRIPLE := $(shell rustc -vV | sed -n 's/^host: //p')

.PHONY: fuzz sanitize
fuzz: venv
	@$(need_nightly)
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked \
		|| { echo "error: make fuzz needs cargo-fuzz, and 'cargo install cargo-fuzz --locked' failed"; exit 1; }
	$(PY) fuzz/seeds.py fuzz/corpus
	cd fuzz && for t in $(FUZZ_TARGETS); do \
		mkdir -p corpus/$$t && \
		LSAN_OPTIONS=suppressions=$(abspath fuzz/lsan.supp) \
		cargo +nightly fuzz run $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -timeout=30 \
			-rss_limit_mb=4096 -print_final_stats=1 || exit 1; \
	done
	@echo "make fuzz: $(FUZZ_TARGETS) ran $(FUZZ_SECONDS) s each without a crash"

# ThreadSanitizer: the Rust tests with the standard library instrumented too (-Zbuild-std), then
# the C close race against a TSan-instrumented libwsbridge.so.
TSAN_TARGET := $(abspath $(BUILD))/sanitize/target
TSAN_LIB := $(TSAN_TARGET)/$(HOST_TRIPLE)/debug
TSAN_CARGO = RUSTFLAGS="-Zsanitizer=thread" TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	cargo +nightly $(1) -Zbuild-std --target $(HOST_TRIPLE) --target-dir $(TSAN_TARGET)

sanitize: venv
	@$(need_nightly)
	@$(need_nightly_src)
	$(call TSAN_CARGO,test) --tests
	$(call TSAN_CARGO,build) --lib
	$(call rel_link,$(REL)/fault_test_tsan,$(FAULT_SOURCES) tests/fault/tsan_shim.c,$(TSAN_LIB),-fsanitize=thread)
	$(call rel_link,$(REL)/abi_test_tsan,$(ABI_TEST_SOURCES) tests/fault/tsan_shim.c,$(TSAN_LIB),-fsanitize=thread)
	$(call rel_plain,$(REL)/canary_tsan,tests/fault/canary.c,-fsanitize=thread)
	WSB_BUILD_DIR=$(abspath $(BUILD)) $(PY) -m pytest -q tests/fault/tsan_races.py
	@echo "make sanitize: ThreadSanitizer found no data race"
