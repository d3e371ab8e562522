# Newsflow: the two commands a newcomer needs are `make run` and `make test`.
# Everything installs into .venv from PyPI; nothing else is needed but Python 3.11+ and make.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test test-fast lint typecheck bench soak clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[embedded,dev]'
	@touch $@

## Start the whole stack on embedded Redis and SecantusDB, load the sample newsroom.
run: install
	$(BIN)/newsflow run

## The full suite: lint, unit, integration and end-to-end tests on real servers.
test: install lint
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not integration and not e2e"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy shared services

bench: install
	$(BIN)/python tests/benchmarks/bench_tagger.py

clean:
	rm -rf $(VENV) .data .pytest_cache .ruff_cache .mypy_cache
