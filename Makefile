# Linkgap: `make run` to try it, `make test` before you push.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint format bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.app: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.app
	$(BIN)/pip install -q -e '.[test]'
	touch $@

$(VENV)/.bench: pyproject.toml $(VENV)/.test
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $@

install: $(VENV)/.app

# The web process and `crm worker` together (and the demo's mail sandbox); Ctrl-C stops both.
run: $(VENV)/.app
	$(BIN)/crm db upgrade
	$(BIN)/crm up --host $(HOST) --port $(PORT)

lint: $(VENV)/.test
	$(BIN)/ruff check crm tests bench
	$(BIN)/ruff format --check crm tests bench
	$(BIN)/mypy

format: $(VENV)/.test
	$(BIN)/ruff check --fix crm tests bench
	$(BIN)/ruff format crm tests bench

# pytest's exit code 5 (no tests collected) is a failure, never a pass.
test: lint
	$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; \
	exit $$rc

bench: $(VENV)/.bench
	$(BIN)/python -m bench.run $(BENCH)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache bench/.data
