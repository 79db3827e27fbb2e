# Two commands do all the set-up on a fresh machine with Python 3.11+ and make:
#   make plan STACK=dev   - offline plan of a stack (no Azure, no Pulumi CLI, no credentials)
#   make test             - lint, type checks and the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STACK ?= dev
REQUIREMENTS := requirements.txt requirements-dev.txt $(wildcard services/requirements*.txt)

.PHONY: install plan plan-json diff lint typecheck test test-infra test-services clean

$(BIN)/.installed: $(REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(addprefix -r ,$(REQUIREMENTS))
	touch $@

install: $(BIN)/.installed

plan: install  ## offline plan of STACK (dev, qa, staging, prod)
	$(BIN)/python -m offline.plan $(STACK)

plan-json: install
	$(BIN)/python -m offline.plan $(STACK) --json

diff: install  ## make diff STACK=staging OTHER=prod
	$(BIN)/python -m offline.plan $(STACK) --diff $(OTHER)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test-infra: install
	$(BIN)/python -m pytest -n 2 tests

test: lint typecheck test-infra $(if $(wildcard services/requirements.txt),test-services)

test-services: install
	$(BIN)/python -m pytest services

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
