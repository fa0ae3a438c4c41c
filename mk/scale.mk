# Past one machine (issue 17): 1,000 games on 4 game hosts, one nginx TLS endpoint, the lobby,
# 4 trainer hubs, and faults on the way (tests/scale/run.py says how).
#
#   make test-scale                  the run (a few minutes; as root: it makes network namespaces);
#                                    figures in build/scale/results.md (docs/deploy.md, *Scale test*)
#   make test-scale SCALE_ARGS='--games 200 --slots 80'    a smaller run, for development
#
# Not part of `make test`. Bounded: each wait in the run has a deadline, and the whole run is
# killed after SCALE_TIMEOUT seconds; its namespaces and processes are removed whatever happens
# (`run.py --sweep` afterwards removes those of a run that was killed). Installs the Debian
# packages iproute2 (ip netns, veth, bridge) and nginx when missing.

SCALE_GAME    := $(BUILD)/tests/scale/multigame
SCALE_TIMEOUT ?= 600
SCALE_ARGS    ?=

# Many games per process, against the release library (a throughput figure comes from it).
$(SCALE_GAME): tests/scale/multigame.c examples/game/cartpole.c examples/game/cartpole.h include/wsbridge.h \
		$(RELEASE_LIB)/libwsbridge.so
	$(call c_shared,$@,tests/scale/multigame.c examples/game/cartpole.c -lm,$(RELEASE_LIB))

.PHONY: test-scale scale-deps

scale-deps:
	@$(call apt_install,iproute2 nginx)

test-scale: $(SCALE_GAME) $(PY_PACKAGE) scale-deps
	@if [ "$$(id -u)" != 0 ]; then echo "error: make test-scale makes network namespaces: run it as root"; exit 1; fi
	status=0; timeout --kill-after=15 $(SCALE_TIMEOUT) $(PY) tests/scale/run.py $(SCALE_ARGS) || status=$$?; \
	$(PY) tests/scale/run.py --sweep; exit $$status
