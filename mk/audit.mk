# make audit: known vulnerabilities in the locked dependencies. NOT part of `make test`: its
# answer depends on outside data that changes without a commit (docs/security.md).
#
#   Python  pip-audit (in its own venv, build/audit/venv) over requirements-dev.txt, which pins
#           the trainer package's dependencies, resolved with their own dependencies; against
#           PyPI's vulnerability data (--vulnerability-service pypi). --strict: a dependency
#           that could not be looked up fails the audit instead of being skipped.
#   Rust    cargo audit over Cargo.lock and fuzz/Cargo.lock, against the RustSec advisory
#           database. cargo audit fetches it from GitHub; where that is not reachable, point
#           RUSTSEC_DB at a clone of it (github.com/rustsec/advisory-db, copied in by other
#           means) and it is read without fetching. Without either the target fails, naming
#           what it could not reach.
#
# Both halves always run; the target fails if either did.

AUDIT_VENV := $(BUILD)/audit/venv
PIP_AUDIT_VERSION := 2.10.1
CARGO_AUDIT_VERSION := 0.22.2
ADVISORY_DB_URL := https://github.com/rustsec/advisory-db.git
RUSTSEC_DB ?=

.PHONY: audit audit-python audit-rust

$(AUDIT_VENV)/.stamp:
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) is required (Python 3.11+)"; exit 1; }
	$(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/pip install --quiet --disable-pip-version-check pip-audit==$(PIP_AUDIT_VERSION)
	@touch $@

audit:
	@status=0; $(MAKE) --no-print-directory audit-python || status=1; \
	$(MAKE) --no-print-directory audit-rust || status=1; \
	if [ $$status = 0 ]; then echo "make audit: no known vulnerability"; \
	else echo "make audit: FAILED (see above: a vulnerability, or a database that could not be reached)"; fi; \
	exit $$status

audit-python: $(AUDIT_VENV)/.stamp
	@echo "== pip-audit: requirements-dev.txt, against PyPI's vulnerability data"
	$(AUDIT_VENV)/bin/pip-audit --strict --vulnerability-service pypi --desc on -r requirements-dev.txt \
	  || { echo "error: pip-audit failed: a known vulnerability, or a dependency PyPI's JSON API" \
	            "(/pypi/NAME/VERSION/json) did not describe (output above)"; exit 1; }

audit-rust:
	@echo "== cargo audit: Cargo.lock and fuzz/Cargo.lock, against the RustSec advisory database"
	@command -v cargo-audit >/dev/null || cargo install cargo-audit --version $(CARGO_AUDIT_VERSION) --locked \
	  || { echo "error: make audit needs cargo-audit, and 'cargo install cargo-audit --locked' failed"; exit 1; }
	@if [ -n "$(RUSTSEC_DB)" ]; then \
	  for lock in Cargo.lock fuzz/Cargo.lock; do \
	    cargo audit --db "$(RUSTSEC_DB)" --no-fetch --file $$lock || exit 1; done; \
	else \
	  for lock in Cargo.lock fuzz/Cargo.lock; do \
	    cargo audit --file $$lock || { \
	      echo "error: cargo audit could not check $$lock: it needs the RustSec advisory database," \
	           "fetched from $(ADVISORY_DB_URL), which this machine cannot reach (or it found an" \
	           "advisory: see above). No package registry serves that database. Clone it where" \
	           "GitHub is reachable and run: make audit RUSTSEC_DB=/path/to/advisory-db"; exit 1; }; \
	  done; \
	fi
