# Autobahn|Testsuite (sections 1-10) against wsbridge through the C ABI; not part of `make test`
# (it takes several minutes). docs/reliability.md has the result.
#
#   make test-autobahn                     run it; fails on any case worse than
#                                          tests/autobahn/expected.json
#   make test-autobahn AUTOBAHN_BLESS=1    run it and write that file from the result
#
# The fuzzing server needs Python 2.7, which Debian last packaged in bullseye. Everything goes
# into build/autobahn, nothing system-wide: apt with its own sources list and state (bullseye)
# downloads the pinned interpreter packages, `dpkg -x` unpacks them into build/autobahn/py27
# (run through the build/autobahn/python2.7 wrapper, which points PYTHONHOME and
# LD_LIBRARY_PATH there); pip 20.3.4 (the last for Python 2.7, fetched by the host's pip)
# installs tests/autobahn/requirements-py27.txt into build/autobahn/site.
# Fails naming what it could not fetch; nothing is skipped.

AUTOBAHN       := $(BUILD)/autobahn
AUTOBAHN_ABS   := $(abspath $(AUTOBAHN))
AUTOBAHN_PY    := $(AUTOBAHN)/python2.7
AUTOBAHN_SITE  := $(AUTOBAHN)/site
AUTOBAHN_TOOLS := $(AUTOBAHN)/tools
AUTOBAHN_REQS  := tests/autobahn/requirements-py27.txt

# Python 2.7 and the libraries its standard modules load (libc comes from the host).
AUTOBAHN_DEBS := python2.7-minimal=2.7.18-8+deb11u1 libpython2.7-minimal=2.7.18-8+deb11u1 \
    libpython2.7-stdlib=2.7.18-8+deb11u1 libssl1.1=1.1.1w-0+deb11u1 libffi7=3.3-6 \
    libbz2-1.0=1.0.8-4 libdb5.3=5.3.28+dfsg1-0.8 libexpat1=2.2.10-2+deb11u5 \
    libncursesw6=6.2+20201114-2+deb11u2 libreadline8=8.1-1 libsqlite3-0=3.34.1-3 \
    libtinfo6=6.2+20201114-2+deb11u2 zlib1g=1:1.2.11.dfsg-2+deb11u2
AUTOBAHN_APT := -o Dir::Etc::sourcelist=$(AUTOBAHN_ABS)/apt/sources.list -o Dir::Etc::sourceparts=- \
    -o Dir::State::Lists=$(AUTOBAHN_ABS)/apt/lists -o Dir::Cache=$(AUTOBAHN_ABS)/apt/cache \
    -o Dir::State::status=/dev/null -o APT::Sandbox::User=root -qq
AUTOBAHN_PIP_BOOTSTRAP := pip==20.3.4 setuptools==44.1.1 wheel==0.37.1
AUTOBAHN_CLIENT := $(AUTOBAHN)/client

.PHONY: test-autobahn autobahn-deps

$(AUTOBAHN)/py27.stamp: mk/autobahn.mk
	rm -rf $(AUTOBAHN)/py27 $(AUTOBAHN)/debs $(AUTOBAHN)/apt
	mkdir -p $(AUTOBAHN)/apt/lists/partial $(AUTOBAHN)/apt/cache/archives/partial $(AUTOBAHN)/debs
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bullseye main" \
	    > $(AUTOBAHN)/apt/sources.list
	apt-get $(AUTOBAHN_APT) update || { echo "error: cannot read Debian bullseye's package lists (needed for Python 2.7)"; exit 1; }
	cd $(AUTOBAHN)/debs && apt-get $(AUTOBAHN_APT) download $(AUTOBAHN_DEBS)
	for deb in $(AUTOBAHN)/debs/*.deb; do dpkg -x $$deb $(AUTOBAHN)/py27; done
	printf '#!/bin/sh\nroot=%s\nPYTHONHOME=$$root/usr LD_LIBRARY_PATH=$$root/lib/x86_64-linux-gnu:$$root/usr/lib/x86_64-linux-gnu exec $$root/usr/bin/python2.7 "$$@"\n' \
	    '$(AUTOBAHN_ABS)/py27' > $(AUTOBAHN_PY)
	chmod +x $(AUTOBAHN_PY)
	$(AUTOBAHN_PY) -c 'import ssl, hashlib, ctypes, zlib, bz2, sqlite3'
	@touch $@

$(AUTOBAHN)/site.stamp: $(AUTOBAHN)/py27.stamp $(AUTOBAHN_REQS) $(VENV)/.stamp
	rm -rf $(AUTOBAHN_SITE) $(AUTOBAHN_TOOLS) $(AUTOBAHN)/wheels
	$(VENV)/bin/pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
	    --python-version 2.7 -d $(AUTOBAHN)/wheels pip==20.3.4
	$(AUTOBAHN_PY) $(AUTOBAHN)/wheels/pip-20.3.4-py2.py3-none-any.whl/pip install --quiet \
	    --disable-pip-version-check --no-warn-script-location --target $(AUTOBAHN_TOOLS) $(AUTOBAHN_PIP_BOOTSTRAP)
	PYTHONPATH=$(AUTOBAHN_ABS)/tools $(AUTOBAHN_PY) -m pip install --quiet --disable-pip-version-check \
	    --no-warn-script-location --no-deps --target $(AUTOBAHN_SITE) -r $(AUTOBAHN_REQS)
	$(AUTOBAHN_PY) -c 'import site, sys; site.addsitedir(sys.argv[1]); import autobahntestsuite.fuzzing' \
	    $(AUTOBAHN_SITE)
	@touch $@

autobahn-deps: $(AUTOBAHN)/site.stamp

# Release build: the 16 MiB messages of section 9 take a while in a debug build.
$(AUTOBAHN_CLIENT): tests/autobahn/client.c include/wsbridge.h $(RELEASE_LIB)/libwsbridge.so
	$(call c_shared,$@,$<,$(RELEASE_LIB))

test-autobahn: autobahn-deps $(AUTOBAHN_CLIENT) venv
	$(PY) tests/autobahn/run.py --python $(AUTOBAHN_PY) --site $(AUTOBAHN_SITE) \
	    --client $(AUTOBAHN_CLIENT) --out $(AUTOBAHN)/run $(if $(AUTOBAHN_BLESS),--bless)
