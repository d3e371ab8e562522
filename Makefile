# Newsflow: the two commands a newcomer needs are `make run` and `make test`.
# Everything installs into .venv from PyPI; nothing else is needed but Python 3.11+ and make.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install browser axe lock run test test-fast lint audit typecheck bench soak clean

install: $(STAMP) browser axe

# Exactly the locked versions, each checked against its hash; then our two packages
# from the working tree, without dependencies (the lock has them all).
$(STAMP): pyproject.toml tools/pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e . -e ./tools
	@touch $@

## Debian's Chromium for the browser tests (tests/e2e/browser). Installed with apt-get
## when we are root; otherwise we say how, and those tests fail until it is there.
browser:
	@if [ -n "$$NEWSFLOW_CHROMIUM" ] || command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian's chromium and chromium-driver for the browser tests"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
	  || { apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null; }; \
	else \
	  echo "NOTE: Chromium is missing; the browser tests will fail until you run"; \
	  echo "      sudo apt-get install chromium chromium-driver  (or set NEWSFLOW_CHROMIUM)"; \
	fi

## axe-core from the npm registry, for the accessibility checks of the browser tests.
## Without npm we say how; those tests then fail (never skip) until it is there.
AXE := $(VENV)/npm/node_modules/axe-core/axe.min.js
axe: $(STAMP)
	@if [ -f $(AXE) ]; then :; \
	elif command -v npm >/dev/null 2>&1; then \
	  npm install --silent --no-audit --no-fund --prefix $(VENV)/npm axe-core@4; \
	else \
	  echo "NOTE: npm is missing; the accessibility tests will fail until you run"; \
	  echo "      sudo apt-get install npm && make axe"; \
	fi
## Resolve requirements.in (every pyproject dependency) into the lock files, with
## hashes, for every platform: run it after editing a pyproject.toml. Pins still
## allowed are kept; `make lock LOCK_FLAGS=--upgrade` moves all to the newest allowed.
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--no-emit-package newsflow --no-emit-package newsflow-tools $(LOCK_FLAGS)
lock: install
	$(UV_COMPILE) requirements.in -o requirements.lock
	$(UV_COMPILE) pyproject.toml -c requirements.lock -o requirements-runtime.lock

## Start the whole stack on embedded Redis and SecantusDB, load the sample newsroom.
run: install
	$(BIN)/newsflow run

## The full suite: lint, unit, integration and end-to-end tests on real servers.
test: install lint
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not integration and not e2e"

## Static checks: style, types, and security (bandit fails on any high-severity finding).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services tools
	$(BIN)/bandit --quiet --recursive shared services tools --severity-level high
	@$(MAKE) --no-print-directory audit

## Known-vulnerability audit of the installed dependencies. It needs PyPI's JSON
## API; where that is unreachable pip-audit audits nothing, and we say so.
audit: install
	@out=$$($(BIN)/pip-audit --skip-editable --progress-spinner off 2>&1); code=$$?; \
	echo "$$out" | grep -v "could not be audited" | grep -v "^Name .*Skip Reason" | grep -v "^-----"; \
	skipped=$$(echo "$$out" | grep -c "could not be audited"); \
	if [ "$$skipped" -gt 0 ]; then echo "pip-audit: $$skipped packages could not be audited (vulnerability service unreachable from here)"; fi; \
	exit $$code

typecheck: install
	$(BIN)/mypy shared services tools

## Longer fault-injection and load runs than `make test` has time for.
soak: install
	$(BIN)/python -m pytest -m soak

## Figures quoted in the README: the pipeline against its ceilings (bench-results/),
## then the tagger alone, then what tracing costs the workers (on against off).
## All always run; the target fails if one misses a target or fails.
bench: install
	@$(BIN)/newsflow bench; pipeline=$$?; \
	$(BIN)/python tests/benchmarks/bench_tagger.py; tagger=$$?; \
	$(BIN)/python -m tests.benchmarks.bench_tracing; tracing=$$?; \
	$(BIN)/python -m tests.benchmarks.bench_wait; wait=$$?; \
	exit $$(( pipeline || tagger || tracing || wait ))

clean:
	rm -rf $(VENV) .data .pytest_cache .ruff_cache .mypy_cache
