# The env protocol's conformance suite (tests/conformance): every game-side implementation,
# driven by the real trainer package (Hub, RemoteVectorEnv) and by a raw websockets trainer.
#
#   make test-conformance   the C game through the C ABI (tests/conformance/spaces_game.c), the
#                           C++ one on wsbridge::Env (spaces_game.cpp, built by mk/cpp.mk) and the
#                           C# one on the Unity package under Mono (spaces_game.cs, mk/unity.mk)
#                                                                         (part of `make test`)
#
# Bindings add their implementation to IMPLEMENTATIONS in tests/conformance/conftest.py and
# its build to CONFORMANCE_DEPS.

CONFORMANCE_GAME := $(BUILD)/tests/conformance_game
CONFORMANCE_DEPS += $(CONFORMANCE_GAME)

.PHONY: test-conformance

$(CONFORMANCE_GAME): tests/conformance/spaces_game.c include/wsbridge.h $(DEBUG_LIB)/libwsbridge.so
	$(call c_shared,$@,$<,$(DEBUG_LIB))

# Second expansion: PY_PACKAGE comes from python.mk, read after this file.
.SECONDEXPANSION:
test-conformance: $$(CONFORMANCE_DEPS) $$(PY_PACKAGE)
	WSB_CONFORMANCE_C=$(abspath $(CONFORMANCE_GAME)) WSB_CONFORMANCE_CPP=$(abspath $(CPP_BUILD)/tests/conformance_game) \
	  $(PY) -m pytest -q tests/conformance

TEST_TARGETS += test-conformance
