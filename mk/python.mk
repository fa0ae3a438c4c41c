# The trainer side: the Python package (bindings/python, import name `wsbridge`), the C game
# that speaks its protocol (examples/game), and the training demo (tools/demo_train.py).
#
#   make test-python   mypy --strict on the package, then its tests against real C game
#                      processes                                           (part of `make test`)
#   make demo-train    8 games on one port, a minute of training, build/demo/learning_curve.png
#                      (part of `make demo`)
#   make game          build/game/cartpole, the game against the release library

GAME_SOURCES := $(sort $(wildcard examples/game/*.c))
GAME_HEADERS := $(sort $(wildcard examples/game/*.h)) include/wsbridge.h
PY_PACKAGE   := $(VENV)/.wsbridge-python.stamp
DEMO_DIR     := $(BUILD)/demo

.PHONY: game test-python demo-train

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
	WSB_GAME=$(abspath $(BUILD)/tests/cartpole) $(PY) -m pytest -q bindings/python/tests

demo-train: $(BUILD)/game/cartpole $(PY_PACKAGE)
	$(PY) tools/demo_train.py --game $(BUILD)/game/cartpole --games 8 --agents 2 --seconds 60 \
	    --plot $(DEMO_DIR)/learning_curve.png

TEST_TARGETS += test-python
DEMO_TARGETS += demo-train
