# `make install`: wsbridge for C and C++ projects on this machine (Linux).
#
#   make install                                  # into /usr/local
#   make install PREFIX=$HOME/.local
#   make install DESTDIR=/tmp/stage PREFIX=/usr   # staged for a package; the files say /usr
#   make uninstall PREFIX=...                     # removes exactly what install put there
#
# Installs the release build: lib/libwsbridge.so and lib/libwsbridge.a, include/wsbridge.h and
# include/wsbridge.hpp (the C++17 wrapper), lib/pkgconfig/wsbridge.pc (shared; Libs.private
# has what a static link needs) and wsbridge-static.pc, and the CMake package
# lib/cmake/wsbridge/ (wsbridge-config.cmake, wsbridge-config-version.cmake) providing
# wsbridge::wsbridge. Templates: packaging/. Tested by tests/cpp/test_install.py.
#
# The library has no SONAME yet, so there are no versioned .so links. Run `ldconfig` after
# installing into a system directory, or link with an rpath.

PREFIX  ?= /usr/local
DESTDIR ?=

INSTALL_LIBDIR := $(DESTDIR)$(PREFIX)/lib
INSTALL_INCDIR := $(DESTDIR)$(PREFIX)/include
INSTALL_FILES := lib/libwsbridge.so lib/libwsbridge.a include/wsbridge.h include/wsbridge.hpp \
    lib/pkgconfig/wsbridge.pc lib/pkgconfig/wsbridge-static.pc \
    lib/cmake/wsbridge/wsbridge-config.cmake lib/cmake/wsbridge/wsbridge-config-version.cmake

# The version, from the header's WSB_VERSION_* macros (evaluated only when installing).
wsb_version_part = $(shell awk '$$2 == "WSB_VERSION_$(1)" { print $$3 }' include/wsbridge.h)
WSB_VERSION = $(call wsb_version_part,MAJOR).$(call wsb_version_part,MINOR).$(call wsb_version_part,PATCH)

install_empty :=
install_space := $(install_empty) $(install_empty)

# $(call install_template,TEMPLATE,DESTINATION): packaging/TEMPLATE with its @NAMES@ filled in.
install_template = echo "generate $(2)" && sed -e 's|@PREFIX@|$(PREFIX)|g' \
    -e 's|@VERSION@|$(WSB_VERSION)|g' \
    -e 's|@VERSION_MAJOR@|$(call wsb_version_part,MAJOR)|g' \
    -e 's|@VERSION_MINOR@|$(call wsb_version_part,MINOR)|g' \
    -e 's|@NATIVE_LIBS@|$(NATIVE_LIBS)|g' \
    -e 's|@NATIVE_LIBS_LIST@|$(subst $(install_space),;,$(strip $(NATIVE_LIBS)))|g' \
    -e "s|@SIZEOF_VOID_P@|$$(( $$(getconf LONG_BIT) / 8 ))|g" \
    packaging/$(1) > $(2) && chmod 0644 $(2)

.PHONY: install uninstall

install: $(RELEASE_LIB)/libwsbridge.so $(RELEASE_LIB)/libwsbridge.a
	@case "$(PREFIX)" in /*) ;; *) echo "error: PREFIX must be an absolute path, got '$(PREFIX)'"; exit 1;; esac
	@case "$(PREFIX)$(DESTDIR)" in *[[:space:]\|]*) echo "error: PREFIX and DESTDIR may not contain spaces or '|'"; exit 1;; esac
	install -d $(INSTALL_LIBDIR)/pkgconfig $(INSTALL_LIBDIR)/cmake/wsbridge $(INSTALL_INCDIR)
	install -m 0755 $(RELEASE_LIB)/libwsbridge.so $(INSTALL_LIBDIR)/libwsbridge.so
	install -m 0644 $(RELEASE_LIB)/libwsbridge.a $(INSTALL_LIBDIR)/libwsbridge.a
	install -m 0644 include/wsbridge.h bindings/cpp/wsbridge.hpp $(INSTALL_INCDIR)/
	@$(call install_template,wsbridge.pc.in,$(INSTALL_LIBDIR)/pkgconfig/wsbridge.pc)
	@$(call install_template,wsbridge-static.pc.in,$(INSTALL_LIBDIR)/pkgconfig/wsbridge-static.pc)
	@$(call install_template,wsbridge-config.cmake.in,$(INSTALL_LIBDIR)/cmake/wsbridge/wsbridge-config.cmake)
	@$(call install_template,wsbridge-config-version.cmake.in,$(INSTALL_LIBDIR)/cmake/wsbridge/wsbridge-config-version.cmake)
	@echo "installed wsbridge $(WSB_VERSION) into $(DESTDIR)$(PREFIX)"

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(INSTALL_FILES))
	rmdir $(INSTALL_LIBDIR)/cmake/wsbridge 2>/dev/null || true
