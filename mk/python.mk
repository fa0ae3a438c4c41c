# The trainer side: the Python package (bindings/python, import name `wsbridge`), the C game
# that speaks its protocol (examples/game), and the training demo (tools/demo_train.py).
#
#   make test-python   mypy --strict on the package, then its tests against real C game
#                      processes                                           (part of `make test`)
#   make demo-train    8 games on one port, a minute of training, build/demo/learning_curve.png
#                      (part of `make demo`)
#   make game          build/game/cartpole, the game against the release library
#   make fuzz-python   atheris feeds random bytes to the package's message decoder for
#                      FUZZ_SECONDS (fuzz/python/decoder.py; part of `make fuzz`)

GAME_SOURCES := $(sort $(wildcard examples/game/*.c))
GAME_HEADERS := $(sort $(wildcard examples/game/*.h)) include/wsbridge.h
PY_PACKAGE   := $(VENV)/.wsbridge-python.stamp
DEMO_DIR     := $(BUILD)/demo

.PHONY: game test-python demo-train fuzz-python

# The package, editable, into the project's .venv (its pinned dependencies come from
# requirements-dev.txt through the venv target).
$(PY_PACKAGE): $(VENV)/.stamp bindings/python/pyproject.toml
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e bindings/python
	@touch $@

game: $(BUILD)/game/cartpole

# The demo's game links the release library; the tests' game the debug one (built by `make test`
# anyway). Both with the project's strict flags and an rpath.
$(BUILD)/game/cartpole: $(GAME_SOURCES) $(GAME_HEADERS) $(RELEASE_LIB)/libwsbridge.so
	$(call c_shared,$@,$(GAME_SOURCES) -lm,$(RELEASE_LIB))
$(BUILD)/tests/cartpole: $(GAME_SOURCES) $(GAME_HEADERS) $(DEBUG_LIB)/libwsbridge.so
	$(call c_shared,$@,$(GAME_SOURCES) -lm,$(DEBUG_LIB))

test-python: $(BUILD)/tests/cartpole $(PY_PACKAGE)
	$(PY) -m mypy --config-file bindings/python/pyproject.toml --cache-dir $(BUILD)/mypy bindings/python/src/wsbridge
	WSB_GAME=$(abspath $(BUILD)/tests/cartpole) $(PY) -m pytest -q tests/python

# DEMO_GAMES: more --game commands from the bindings' fragments (mk/unity.mk adds the C#
# cartpole when Mono is installed), trained side by side with the C games on the same port.
demo-train: $(BUILD)/game/cartpole $(PY_PACKAGE) $$(DEMO_GAME_DEPS)
	$(PY) tools/demo_train.py --game $(BUILD)/game/cartpole $(DEMO_GAMES) --games 8 --agents 2 --seconds 60 \
	    --plot $(DEMO_DIR)/learning_curve.png

TEST_TARGETS += test-python
DEMO_TARGETS += demo-train

# The decoder fuzz target (atheris, pinned in requirements-dev.txt). Its corpus and any crashing
# input are kept under build/fuzz-python; FUZZ_SECONDS comes from mk/reliability.mk.
FUZZ_PY := $(BUILD)/fuzz-python
fuzz-python: $(PY_PACKAGE)
	$(PY) fuzz/python/decoder.py --seeds $(FUZZ_PY)/corpus
	mkdir -p $(FUZZ_PY)/artifacts
	$(PY) fuzz/python/decoder.py $(FUZZ_PY)/corpus -dict=fuzz/python/decoder.dict \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
	    -print_final_stats=1 -artifact_prefix=$(abspath $(FUZZ_PY))/artifacts/
	@echo "make fuzz-python: the decoder ran $(FUZZ_SECONDS) s without a crash"
fuzz: fuzz-python

# `make test-rl` (part of `make test`): the package with Stable-Baselines3, RLlib, PettingZoo and
# a CleanRL-style torch loop (tests/rl), in a virtual environment of its own
# (build/rl-venv, from bindings/python/requirements-rl.txt) so that torch, ray and their CUDA
# libraries never enter .venv. The package goes in editable, without its dependencies (pinned
# there already).
RL_VENV := $(BUILD)/rl-venv
RL_STAMP := $(RL_VENV)/.stamp
# torch's wheels unpack beside the venv while it installs: 6.1 GiB at the end, about 7 at the peak.
# --no-cache-dir keeps pip from keeping another 3.5 GiB of wheels in ~/.cache/pip.
RL_VENV_NEEDS_GIB ?= 8
.PHONY: test-rl rl-venv
rl-venv: $(RL_STAMP)
$(RL_STAMP): bindings/python/requirements-rl.txt bindings/python/pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) is required (Python 3.11+)"; exit 1; }
	@mkdir -p $(BUILD); free_kib=$$(df -Pk $(BUILD) | awk 'NR==2 {print $$4}'); \
	if [ "$$free_kib" -lt $$(( $(RL_VENV_NEEDS_GIB) * 1024 * 1024 )) ]; then \
	  echo "error: make test-rl needs $(RL_VENV_NEEDS_GIB) GiB free in $(abspath $(BUILD)) for build/rl-venv (torch and its CUDA libraries, 6.1 GiB installed); $$(( free_kib / 1024 )) MiB are free"; exit 1; fi
	$(PYTHON) -m venv $(RL_VENV) || { echo "error: cannot create a virtual environment: install python3-venv"; exit 1; }
	$(RL_VENV)/bin/pip install --quiet --disable-pip-version-check --no-cache-dir -r bindings/python/requirements-rl.txt
	$(RL_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e bindings/python
	@touch $@

# --durations: the RL suite is one of `make test`'s longest; its log says which tests take it.
test-rl: $(BUILD)/tests/cartpole $(RL_STAMP)
	WSB_GAME=$(abspath $(BUILD)/tests/cartpole) $(RL_VENV)/bin/python -m pytest -q --durations=5 tests/rl

TEST_TARGETS += test-rl
