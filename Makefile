# The one entry point for people and CI. `make demo` runs the main job (options: make demo ARGS="--faults"),
# `make test` the whole suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: demo dev test test-quick test-rust test-python lint bench bench-rust bench-python bench-serve browser clean
.PHONY: sdist wheel test-wheel test-all test-second bench-peers

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Installs tapeflow (release build of the engine, editable Python) and the test tools into .venv.
$(STAMP): $(PY) pyproject.toml Cargo.toml
	$(PIP) install --quiet "maturin>=1.9.4,<2"
	$(PIP) install --quiet -e ".[test]"
	touch $(STAMP)

# Rebuilds the engine after a change to src/ (release profile, as used by tests and benchmarks). The engine is an
# abi3 module (`_core.abi3.so`); a version-specific `_core.cpython-*.so` left by an older build would be imported
# before it, so it goes.
dev: $(STAMP)
	@rm -f python/tapeflow/_core.cpython-*.so
	@$(VENV)/bin/maturin develop --release > $(VENV)/build.log 2>&1 || (cat $(VENV)/build.log; exit 1)

demo: dev
	$(VENV)/bin/tapeflow demo $(ARGS)

lint: dev
	cargo fmt --check
	cargo clippy --all-targets --all-features --quiet -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features --quiet
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

test: lint test-rust test-python test-wheel

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

# ---------------------------------------------------------------------------------------------------- packaging
# One abi3 wheel (CPython 3.11 and later) tagged manylinux2014, i.e. glibc 2.17 or newer: zig (the `ziglang` package)
# links it against glibc 2.17 symbols whatever the build machine has. The wheel is built from the unpacked sdist, so
# every wheel also proves that the sdist builds. Both land in dist/; they are rebuilt only when a source changes.
DIST := dist
TOOLS_STAMP := $(VENV)/.wheel-tools
PACKAGE_SOURCES := Cargo.toml Cargo.lock pyproject.toml README.md \
	$(shell find src python -type f ! -name '*.so' ! -name '*.pyc' 2>/dev/null)
SDIST_TREE := target/sdist
# The second CPython of `make test-all`: 3.13, else 3.12.
PY_SECOND ?= $(firstword $(wildcard /root/.pyenv/versions/3.13*/bin/python3) \
	$(shell command -v python3.13 2>/dev/null) $(wildcard /root/.pyenv/versions/3.12*/bin/python3) \
	$(shell command -v python3.12 2>/dev/null))
SECOND_VENV := target/venv-second

$(TOOLS_STAMP): $(STAMP)
	$(PIP) install --quiet "ziglang>=0.17,<0.18"
	touch $@

$(DIST)/.sdist: $(STAMP) $(PACKAGE_SOURCES)
	rm -f $(DIST)/tapeflow-*.tar.gz
	$(VENV)/bin/maturin sdist --out $(DIST) > $(VENV)/sdist.log 2>&1 || (cat $(VENV)/sdist.log; exit 1)
	touch $@

# `tar -m` gives the unpacked files the current time (the sdist stores fixed old ones), so cargo sees the changes.
$(DIST)/.wheel: $(DIST)/.sdist $(TOOLS_STAMP)
	rm -rf $(SDIST_TREE) $(DIST)/tapeflow-*.whl && mkdir -p $(SDIST_TREE)
	tar -xzmf $(DIST)/tapeflow-*.tar.gz -C $(SDIST_TREE)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" CARGO_TARGET_DIR="$(CURDIR)/target" maturin build --release --zig \
		--compatibility manylinux2014 --manifest-path $(SDIST_TREE)/tapeflow-*/Cargo.toml --out $(DIST) \
		> $(VENV)/wheel.log 2>&1 || (cat $(VENV)/wheel.log; exit 1)
	@ls $(DIST)/tapeflow-*.whl
	touch $@

sdist: $(DIST)/.sdist
	@ls $(DIST)/tapeflow-*.tar.gz

wheel: $(DIST)/.wheel

# The built wheel in fresh venvs outside the checkout (this Python and the second one when present): import, the
# bundled replay, and the shipped recordings replayed to the golden books.
test-wheel: wheel
	python3 tests/packaging/smoke_wheel.py $(DIST)/tapeflow-*.whl python3 $(PY_SECOND)

# The whole Python suite once more on the second CPython, against the installed abi3 wheel (not the source tree).
test-second: wheel
	@test -n "$(PY_SECOND)" || (echo "ERROR: no CPython 3.13 or 3.12 found for test-all" >&2; exit 1)
	rm -rf $(SECOND_VENV) && $(PY_SECOND) -m venv $(SECOND_VENV)
	$(SECOND_VENV)/bin/pip install --quiet --disable-pip-version-check "$$(ls $(DIST)/tapeflow-*.whl)[test]"
	cd tests && ../$(SECOND_VENV)/bin/python -c "import tapeflow, sys; \
		assert 'site-packages' in tapeflow.__file__, tapeflow.__file__; print(sys.version, tapeflow.__file__)"
	@$(SECOND_VENV)/bin/pytest -q -p no:cacheprovider; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "ERROR: pytest collected no tests" >&2; fi; exit $$rc

test-all: test test-second

# ---------------------------------------------------------------------------------------------------- peers
# tapeflow side by side with python-binance, UNICORN, cryptofeed, order-book, nautilus_trader, sortedcontainers, plain
# dicts, deques and pandas (benches/peers): its own venv under target/ with the wheel and the pinned peers, on the
# second CPython (the newest peer releases need 3.12+). Results: benches/peers/results/ (BENCH_ARGS=--quick: a smoke
# run). docs/peers.md shows the committed results.
PEERS_VENV := target/bench-peers
PEERS_STAMP := $(PEERS_VENV)/.installed

$(PEERS_STAMP): benches/peers/requirements.txt $(DIST)/.wheel
	@test -n "$(PY_SECOND)" || (echo "ERROR: no CPython 3.13 or 3.12 found for the peer benchmarks" >&2; exit 1)
	rm -rf $(PEERS_VENV) && $(PY_SECOND) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/pip install --quiet --disable-pip-version-check -r benches/peers/requirements.txt \
		$$(ls $(DIST)/tapeflow-*.whl)
	touch $@

bench-peers: $(PEERS_STAMP)
	$(PEERS_VENV)/bin/python benches/peers/run.py $(BENCH_ARGS)
