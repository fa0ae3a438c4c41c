# Unity WebGL: the package's C# compiled for WebGL (UNITY_WEBGL) under Mono, and its .jslib
# (bindings/unity/Plugins/WebGL/wsbridge.jslib) run in headless Chromium against the Python
# websockets servers (tests/webgl). Chromium comes from Debian, playwright-core from npm.
#
#   make test-webgl      (part of `make test`)

WEBGL_BUILD        := $(BUILD)/webgl
PLAYWRIGHT_VERSION := 1.65.1
PLAYWRIGHT         := $(WEBGL_BUILD)/node_modules/playwright-core/package.json
# What the Runtime assembly is compiled with in a WebGL player build.
WEBGL_DEFINES      := UNITY_WEBGL

.PHONY: webgl-install test-webgl

# npm from Debian unless one is on the PATH already.
DEBIAN_PACKAGES += chromium $(if $(shell command -v npm 2>/dev/null),,nodejs npm)
webgl-install: deps

$(PLAYWRIGHT): | webgl-install
	@mkdir -p $(WEBGL_BUILD)
	npm install --no-audit --no-fund --silent --prefix $(WEBGL_BUILD) playwright-core@$(PLAYWRIGHT_VERSION)

# The Runtime as a WebGL player compiles it: NativeMethods.WebGL.cs instead of the P/Invoke
# declarations, Receive's NotSupported path.
$(WEBGL_BUILD)/Wsbridge.WebGL.dll: $(UNITY_RUNTIME) | mono-install
	@mkdir -p $(@D)
	$(MCS) -unsafe -target:library '-define:$(WEBGL_DEFINES)' -out:$@ $(UNITY_RUNTIME)

test-webgl: $(WEBGL_BUILD)/Wsbridge.WebGL.dll $(PLAYWRIGHT) venv
	WSB_NODE_MODULES=$(abspath $(WEBGL_BUILD))/node_modules $(PY) -m pytest -q tests/webgl

TEST_TARGETS += test-webgl
