# Crossing networks (issue 8): wss:// with rustls, HTTP CONNECT proxies, nginx in front of trainers.
#
#   make test-network   # tests/network: real Python websockets servers over TLS, nginx running
#                       # the configuration of docs/deploy.md, tinyproxy with and without
#                       # authentication; the client is tests/network/netclient.c.
#
# Needs the Debian packages nginx and tinyproxy-bin (the binary without the system service),
# which `make deps` installs; the test CA and certificates come from Python's `cryptography`
# (requirements-dev).

NETWORK_CLIENT := $(BUILD)/tests/network/netclient

$(NETWORK_CLIENT): tests/network/netclient.c include/wsbridge.h $(DEBUG_LIB)/libwsbridge.so
	$(call c_shared,$@,$<,$(DEBUG_LIB))

.PHONY: test-network network-deps

DEBIAN_PACKAGES += nginx tinyproxy-bin
network-deps: deps

test-network: $(NETWORK_CLIENT) venv network-deps
	$(PY) -m pytest -q tests/network

TEST_TARGETS += test-network
