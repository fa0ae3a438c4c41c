# `make bench`: wsbridge against raw TCP and the clients users would pick instead, every workload
# side by side in one run (not part of `make test`). Writes bench/results.md, bench/results.json
# and bench/plots/*.png; BENCHMARKS.md summarizes them. See bench/README.md.
#
#   make bench                  the full run (about 10 minutes on 2 cores)
#   make bench BENCH_QUICK=1    one short repetition, for development (about 2 minutes)
#   make bench BENCH_ROWS='raw TCP (C),wsbridge C ABI'   only these rows
#   make bench-profile          where a wsbridge message spends its time (perf; bench/profile.md)
#
# Installs its peers itself: Debian libwebsockets-dev and Mono, PyPI websockets,
# websocket-client and matplotlib (into build/bench/venv, from bench/requirements.txt).

BENCH_BUILD  := $(BUILD)/bench
BENCH_VENV   := $(BENCH_BUILD)/venv
BENCH_PY     := $(BENCH_VENV)/bin/python
BENCH_CFLAGS := -std=c11 -O2 -Wall -Wextra -Werror -pthread -Iinclude
BENCH_APT    := libwebsockets-dev mono-mcs mono-runtime
BENCH_MCS    := mcs -langversion:7.2 -optimize+ -warnaserror+ -nologo
BENCH_C      := bench/clients/c
# The workloads every C row runs, and how they read /proc (shared with the C tests).
BENCH_HARNESS := $(BENCH_C)/harness.c $(BENCH_C)/harness.h tests/c/common/proc.c tests/c/common/proc.h
BENCH_CS     := bench/clients/cs
# The Unity binding's sources (issue 4), compiled into the C# wsbridge row when present.
BENCH_UNITY  := $(sort $(wildcard bindings/unity/Runtime/*.cs))
BENCH_WSB    := -L$(RELEASE_LIB) -Wl,-rpath,$(RELEASE_LIB) -lwsbridge

# The trainer package and its game (issue 6), for the end-to-end row through RemoteVectorEnv.
BENCH_CARTPOLE := $(if $(and $(wildcard examples/game/main.c),$(wildcard mk/python.mk)),$(BUILD)/game/cartpole)
BENCH_PACKAGE  := $(if $(wildcard bindings/python/pyproject.toml),$(BENCH_VENV)/.package.stamp)

BENCH_PROGRAMS := $(BENCH_BUILD)/echod $(BENCH_BUILD)/raw_tcp $(BENCH_BUILD)/wsb_c $(BENCH_BUILD)/lws_c \
    $(BENCH_BUILD)/game_wsb $(BENCH_BUILD)/game_tcp $(BENCH_BUILD)/cs/cws.exe \
    $(if $(BENCH_UNITY),$(BENCH_BUILD)/cs/wsb_cs.exe)

.PHONY: bench bench-deps bench-build bench-profile

bench: bench-build
	$(BENCH_PY) bench/run.py --build $(BENCH_BUILD) --release-lib $(RELEASE_LIB) \
	    $(if $(BENCH_QUICK),--quick) $(if $(BENCH_ROWS),--rows '$(BENCH_ROWS)') \
	    $(if $(BENCH_CARTPOLE),--cartpole $(BENCH_CARTPOLE))

bench-build: bench-deps $(BENCH_PROGRAMS) $(BENCH_VENV)/.stamp $(BENCH_CARTPOLE) $(BENCH_PACKAGE)

bench-deps:
	@$(call apt_install,$(BENCH_APT))

$(BENCH_VENV)/.stamp: bench/requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) is required (Python 3.11+)"; exit 1; }
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	@touch $@

# The package itself, editable; its dependencies are pinned in bench/requirements.txt.
$(BENCH_VENV)/.package.stamp: $(BENCH_VENV)/.stamp bindings/python/pyproject.toml
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e bindings/python
	@touch $@

$(BENCH_BUILD)/echod: $(wildcard bench/server/*.c bench/server/*.h)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $(filter %.c,$^)

$(BENCH_BUILD)/raw_tcp: $(BENCH_HARNESS) $(BENCH_C)/raw_tcp.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $(filter %.c,$^)

$(BENCH_BUILD)/wsb_c: $(BENCH_HARNESS) $(BENCH_C)/wsbridge.c include/wsbridge.h \
    $(RELEASE_LIB)/libwsbridge.so
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $(filter %.c,$^) $(BENCH_WSB)

$(BENCH_BUILD)/lws_c: $(BENCH_HARNESS) $(BENCH_C)/lws.c | bench-deps
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $(filter %.c,$^) -lwebsockets

$(BENCH_BUILD)/game_wsb: bench/e2e/game.c $(BENCH_C)/wsbridge.c $(BENCH_C)/harness.h include/wsbridge.h \
    $(RELEASE_LIB)/libwsbridge.so
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $(filter %.c,$^) $(BENCH_WSB)

$(BENCH_BUILD)/game_tcp: bench/e2e/game.c $(BENCH_C)/raw_tcp.c $(BENCH_C)/harness.h
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $(filter %.c,$^)

$(BENCH_BUILD)/cs/cws.exe: $(BENCH_CS)/Harness.cs $(BENCH_CS)/ClientWebSocketRow.cs | bench-deps
	@mkdir -p $(@D)
	$(BENCH_MCS) -r:System.dll -out:$@ $^

# The binding is compiled in as its sources are. If they do not compile (work in progress), the
# row is reported as not run, with the compiler's output in build/bench/cs/wsb_cs.build.log.
$(BENCH_BUILD)/cs/wsb_cs.exe: $(BENCH_CS)/Harness.cs $(BENCH_CS)/WsbridgeRow.cs $(BENCH_UNITY) | bench-deps
	@mkdir -p $(@D)
	@rm -f $@
	$(BENCH_MCS) -unsafe -out:$@ $^ > $(@D)/wsb_cs.build.log 2>&1 || \
	    { cat $(@D)/wsb_cs.build.log; echo "bench: the Unity binding does not compile; its row will not run"; }

bench-profile: bench-build
	@$(call apt_install,linux-perf)
	$(BENCH_PY) bench/profile.py --build $(BENCH_BUILD)
