# `make bench`: wsbridge against raw TCP and the clients users would pick instead, every workload
# side by side in one run (not part of `make test`). Writes bench/results.md, bench/results.json
# and bench/plots/*.png; BENCHMARKS.md summarizes them. See bench/README.md.
#
#   make bench                  the full run (about 10 minutes on 2 cores)
#   make bench BENCH_QUICK=1    one short repetition, for development (about 2 minutes)
#   make bench BENCH_ROWS='raw TCP (C),wsbridge C ABI'   only these rows
#   make bench BENCH_WORKLOADS=trainer   only workload 7: the trainer package against the raw TCP
#                               trainer and Godot RL Agents' trainer (1/8/64/256 games x 1/16 agents)
#   make bench-profile          where a wsbridge message spends its time (perf; bench/profile.md)
#   make bench-profile-trainer  where the trainer package's step spends its time (pyinstrument;
#                               bench/profile-trainer.md)
#
# Installs its peers itself (`make bench-deps`, not part of `make deps`): Debian libwebsockets-dev
# and Mono; PyPI websockets, websocket-client and matplotlib (into build/bench/venv, from
# bench/requirements.txt), and the trainer side of Godot RL Agents (PyPI godot-rl, without its
# training dependencies: see below).

BENCH_BUILD  := $(BUILD)/bench
BENCH_VENV   := $(BENCH_BUILD)/venv
BENCH_PY     := $(BENCH_VENV)/bin/python
BENCH_CFLAGS := -std=c11 -O2 -Wall -Wextra -Werror -pthread -Iinclude
BENCH_APT    := libwebsockets-dev mono-mcs mono-runtime
BENCH_MCS    := mcs -langversion:7.2 -optimize+ -warnaserror+ -nologo
BENCH_C      := bench/clients/c
# The workloads every C row runs, and how they read /proc (shared with the C tests).
BENCH_HARNESS := $(BENCH_C)/harness.c $(BENCH_C)/harness.h tests/common/c/proc.c tests/common/c/proc.h
BENCH_CS     := bench/clients/cs
# The Unity binding's sources (issue 4), compiled into the C# wsbridge row when present.
BENCH_UNITY  := $(sort $(wildcard bindings/unity/Runtime/*.cs))
BENCH_WSB    := -L$(RELEASE_LIB) -Wl,-rpath,$(RELEASE_LIB) -lwsbridge

# The trainer package and its game (issue 6), for the end-to-end row through RemoteVectorEnv.
BENCH_CARTPOLE := $(if $(and $(wildcard examples/game/main.c),$(wildcard mk/python.mk)),$(BUILD)/game/cartpole)
BENCH_PACKAGE  := $(if $(wildcard bindings/python/pyproject.toml),$(BENCH_VENV)/.package.stamp)

# Godot RL Agents' trainer side (workload 7). Installed without its dependencies: the row uses only
# godot_rl.core (GodotEnv: numpy and gymnasium, pinned in bench/requirements.txt); the rest it
# declares (stable-baselines3, torch, onnx, tensorboard) is for its training wrappers.
BENCH_GODOT_RL := godot-rl==0.8.2

BENCH_PROGRAMS := $(BENCH_BUILD)/godot_game.x86_64 $(BENCH_BUILD)/echod $(BENCH_BUILD)/raw_tcp $(BENCH_BUILD)/wsb_c $(BENCH_BUILD)/lws_c \
    $(BENCH_BUILD)/game_wsb $(BENCH_BUILD)/game_tcp $(BENCH_BUILD)/cs/cws.exe \
    $(if $(BENCH_UNITY),$(BENCH_BUILD)/cs/wsb_cs.exe)

.PHONY: bench bench-deps bench-build bench-profile bench-profile-trainer

bench: bench-build
	$(BENCH_PY) bench/run.py --build $(BENCH_BUILD) --release-lib $(RELEASE_LIB) \
	    $(if $(BENCH_QUICK),--quick) $(if $(BENCH_ROWS),--rows '$(BENCH_ROWS)') \
	    $(if $(BENCH_WORKLOADS),--workloads '$(BENCH_WORKLOADS)') \
	    $(if $(BENCH_CARTPOLE),--cartpole $(BENCH_CARTPOLE))

bench-build: bench-deps $(BENCH_PROGRAMS) $(BENCH_VENV)/.stamp $(BENCH_VENV)/.godot-rl.stamp $(BENCH_CARTPOLE) \
    $(BENCH_PACKAGE)

bench-deps:
	@$(call apt_install,make bench-deps,$(BENCH_APT))

$(BENCH_VENV)/.stamp: bench/requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) is required (Python 3.11+)"; exit 1; }
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	@touch $@

# The package itself, editable; its dependencies are pinned in bench/requirements.txt.
$(BENCH_VENV)/.package.stamp: $(BENCH_VENV)/.stamp bindings/python/pyproject.toml
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e bindings/python
	@touch $@

$(BENCH_VENV)/.godot-rl.stamp: $(BENCH_VENV)/.stamp mk/bench.mk
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps $(BENCH_GODOT_RL)
	@touch $@

# The cartpole of examples/game speaking Godot RL Agents' protocol; GodotEnv launches it and wants
# the suffix of an exported Linux Godot game.
$(BENCH_BUILD)/godot_game.x86_64: bench/e2e/godot_game.c examples/game/cartpole.c examples/game/cartpole.h
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $(filter %.c,$^) -lm

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
	    { cat $(@D)/wsb_cs.build.log; echo "error: bench: the Unity binding does not compile (log above)"; rm -f $@; exit 1; }

bench-profile: bench-build
	@$(call apt_install,make bench-profile,linux-perf)
	$(BENCH_PY) bench/profile.py --build $(BENCH_BUILD)

bench-profile-trainer: bench-build
	$(BENCH_PY) bench/profile.py --build $(BENCH_BUILD) --trainer 1x1 --trainer 64x1 --trainer 256x16
