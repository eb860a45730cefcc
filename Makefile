# deskcore developer tasks. Needs GNU make and Python 3.11+ as `python3`; everything else
# is installed into .venv on first use.
#
#   make demo    run the demo on the embedded SQLite default
#   make test    lint, format, types, layering, tests with coverage, docs build
#   make bench   run the benchmark suite
#   make docs    build the HTML docs into docs/_build/html
#   make lint    ruff check, ruff format --check, mypy, import-linter
#   make clean   remove caches and build output (keeps .venv; `make distclean` drops it too)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Stamps record what was installed; they are older than pyproject.toml when it changed.
DEV_STAMP := $(VENV)/.installed-dev
RUN_STAMP := $(VENV)/.installed

PY_PATHS := src tests benchmarks scripts
SPHINX := $(BIN)/sphinx-build -W --keep-going -E -b html docs docs/_build/html

.PHONY: help demo test lint docs bench clean distclean

help:
	@sed -n 's/^#   make /make /p' $(firstword $(MAKEFILE_LIST))

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "deskcore needs Python 3.11 or newer as $(PYTHON) (try: make PYTHON=python3.11 ...)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(RUN_STAMP)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

demo: $(RUN_STAMP)
	$(BIN)/deskcore demo

# The steps run in this order and stop at the first failure: lint first (as a prerequisite,
# so even `make -j` keeps the order), then the tests with coverage, then the docs build.
# Branch coverage and the floor (fail_under) come from [tool.coverage] in pyproject.toml;
# `parallel = true` writes one data file per process, combined before the report.
test: lint
	$(BIN)/coverage erase
	HYPOTHESIS_PROFILE=ci $(BIN)/coverage run -m pytest -n auto
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report
	$(SPHINX)

lint: $(DEV_STAMP)
	$(BIN)/ruff check $(PY_PATHS)
	$(BIN)/ruff format --check $(PY_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports

# -E reads every page on each build, so a warning comes back on the next run too.
docs: $(DEV_STAMP)
	$(SPHINX)

bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf docs/_build build dist htmlcov .coverage .coverage.* .pytest_cache .mypy_cache \
		.ruff_cache .hypothesis .import_linter_cache src/*.egg-info \
		deskcore-demo.sqlite3 deskcore-demo.sqlite3-wal deskcore-demo.sqlite3-shm
	find src tests benchmarks docs -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
