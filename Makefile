# Two commands do all the set-up on a fresh machine with Python 3.11+ and make:
#   make plan STACK=dev   - offline plan of a stack (no Azure, no Pulumi CLI, no credentials)
#   make test             - lint, type checks and the whole test suite (infra, policies, services)
#
# The infrastructure program and the services are separate deployables with their own
# pinned dependencies (and conflicting OpenTelemetry pins), so each gets its own venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SVC_VENV ?= services/.venv
SVC_BIN := $(SVC_VENV)/bin
STACK ?= dev

.PHONY: install install-services plan plan-json diff lint typecheck test test-infra \
	test-services run-services bench mutation clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

$(SVC_BIN)/.installed: services/requirements.txt services/requirements-dev.txt
	$(PYTHON) -m venv $(SVC_VENV)
	$(SVC_BIN)/python -m pip install --quiet --upgrade pip
	$(SVC_BIN)/python -m pip install --quiet -r services/requirements-dev.txt
	touch $@

install: $(BIN)/.installed
install-services: $(SVC_BIN)/.installed

plan: install  ## offline plan of STACK (dev, qa, staging, prod)
	$(BIN)/python -m offline.plan $(STACK)

plan-json: install
	$(BIN)/python -m offline.plan $(STACK) --json

diff: install  ## make diff STACK=staging OTHER=prod
	$(BIN)/python -m offline.plan $(STACK) --diff $(OTHER)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install install-services
	$(BIN)/mypy
	$(MAKE) -C services typecheck PYTHON=$(abspath $(SVC_BIN)/python)

test-infra: install
	$(BIN)/python -m pytest -n 2 tests

test-services: install-services
	$(SVC_BIN)/python -m pytest services
	$(MAKE) -C services check-generated hadolint PYTHON=$(abspath $(SVC_BIN)/python) \
		PATH="$(abspath $(SVC_BIN)):$$PATH"

test: lint typecheck test-infra test-services

run-services: install-services  ## all four services on SQLite, ports 8001-8004
	$(SVC_BIN)/python services/run_local.py --seed

bench: install-services  ## bounded local load test of the services
	$(SVC_BIN)/python services/bench/bench.py --requests 2000 --concurrency 16

# Mutation testing (cosmic-ray; not part of `make test`): kill rate per area and in total,
# failing under 85%. Mutants live in a copy of the tree under .mutation/; see scripts/mutation.py.
mutation: install install-services
	nice -n 10 $(BIN)/python -m scripts.mutation $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) $(SVC_VENV) .mypy_cache .ruff_cache
