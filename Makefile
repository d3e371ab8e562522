# Newsflow: the two commands a newcomer needs are `make run` and `make test`.
# Everything installs into .venv from PyPI; nothing else is needed but Python 3.11+ and make.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test test-fast lint audit typecheck bench soak clean

install: $(STAMP)

$(STAMP): pyproject.toml tools/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' -e ./tools
	@touch $@

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
## then the tagger alone. Both always run; the target fails if either misses a target.
bench: install
	@$(BIN)/newsflow bench; pipeline=$$?; \
	$(BIN)/python tests/benchmarks/bench_tagger.py; tagger=$$?; \
	$(BIN)/python -m tests.benchmarks.bench_wait; wait=$$?; \
	exit $$(( pipeline || tagger || wait ))

clean:
	rm -rf $(VENV) .data .pytest_cache .ruff_cache .mypy_cache
