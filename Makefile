# The one entry point for people and CI. `make demo` runs the main job (options: make demo ARGS="--faults"),
# `make test` the whole suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: demo dev test test-quick test-rust test-python lint bench bench-rust bench-python bench-serve browser clean

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Installs tapeflow (release build of the engine, editable Python) and the test tools into .venv.
$(STAMP): $(PY) pyproject.toml Cargo.toml
	$(PIP) install --quiet "maturin>=1.9.4,<2"
	$(PIP) install --quiet -e ".[test]"
	touch $(STAMP)

# Rebuilds the engine after a change to src/ (release profile, as used by tests and benchmarks).
dev: $(STAMP)
	@$(VENV)/bin/maturin develop --release > $(VENV)/build.log 2>&1 || (cat $(VENV)/build.log; exit 1)

demo: dev
	$(VENV)/bin/tapeflow demo $(ARGS)

lint: dev
	cargo fmt --check
	cargo clippy --all-targets --all-features --quiet -- -D warnings
	$(VENV)/bin/ruff format --check python tests benches
	$(VENV)/bin/ruff check python tests benches
	$(VENV)/bin/mypy
	$(PY) -m mypy.stubtest tapeflow._core
	$(VENV)/bin/lint-imports
	@# The engine's bindings import nothing of the shell but its exception classes.
	@! grep -rnoE 'tapeflow\.[a-z_]+' src/python | grep -vE 'tapeflow\.(_core|errors)$$' || \
		(echo "src/python refers to a shell module (only tapeflow.errors may be imported)" >&2; exit 1)

test-rust:
	cargo test --quiet

# The page test drives Debian's Chromium (never a downloaded browser). Installed here when missing (CI runs as root,
# without stdin); if it cannot be installed, this fails loudly rather than letting the test be skipped.
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { echo "installing chromium (apt-get) for the page test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null; } || true
	@test -x $(CHROMIUM) || { echo "ERROR: $(CHROMIUM) is missing and could not be installed:" \
		"apt-get install -y chromium (the page test needs it)" >&2; exit 1; }

# pytest exits 5 when it collects nothing: say so loudly rather than let an empty run look green.
test-python: dev browser
	@$(VENV)/bin/pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "ERROR: pytest collected no tests" >&2; fi; exit $$rc

test: lint test-rust test-python

# The Python suite without the long end-to-end runs (marked `slow`), for a quick loop while working.
test-quick: dev browser
	$(VENV)/bin/pytest -q -m "not slow"

bench-rust:
	cargo bench --bench book --bench liq --bench flow

bench-python: dev
	$(VENV)/bin/pytest benches/python --benchmark-enable --benchmark-only -q -p no:cacheprovider

# The HTTP service under load from a separate process (see docs/performance.md).
bench-serve: dev
	$(PY) benches/serve_load.py $(ARGS)

bench: bench-rust bench-python

clean:
	rm -rf $(VENV) target
