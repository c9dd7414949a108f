# Chorale — every command a developer or operator needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN := $(UV) run --frozen
INFRA := $(PYTHON) deploy/local/infra.py
STACK := $(RUN) python deploy/stack.py

.PHONY: help bootstrap browser up down status logs test test-unit lint typecheck contracts docs bench demo demo-browser infra-up infra-down clean

help: ## List the commands
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	@echo "installing uv (the Python package manager) from PyPI…"
	@$(PYTHON) -m pip install --quiet --user 'uv>=0.9,<0.14' || $(PYTHON) -m pip install --quiet 'uv>=0.9,<0.14'

bootstrap: $(UV) ## Install Python 3.11 dependencies from uv.lock into .venv
	@$(UV) sync --frozen --quiet

# The portal's browser tests drive Debian's chromium (Playwright cannot download its own browser
# here). Installed when missing and we are root; otherwise one line says what to do.
browser: ## Install Debian's chromium for the portal's browser tests (when missing, as root)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium (Debian package) for the portal's browser tests…"; \
	    (export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq chromium >/dev/null 2>&1 || \
	     (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)) \
	    || echo "chromium could not be installed (apt-get failed): the portal's browser tests will fail; install the 'chromium' package"; \
	  else \
	    echo "chromium is missing and cannot be installed here (not root or no apt-get): install the 'chromium' package for the portal's browser tests"; \
	  fi; }

up: bootstrap browser ## Run the whole system: Kafka, database, every service (provisioned if missing)
	@$(STACK) up

down: ## Stop every service, Kafka and the database started by `make up`
	@$(STACK) down

status: ## Show what `make up` is running
	@$(STACK) status

logs: ## Tail the services' logs
	@$(STACK) logs

test: bootstrap browser ## Run every test (lint, type check, unit, integration on real Kafka + FerretDB, end to end)
	@$(RUN) ruff check --quiet .
	@$(RUN) mypy
	@$(RUN) python deploy/pytest_strict.py $(PYTEST_ARGS)

test-unit: bootstrap ## Run only the tests that need no infrastructure
	@$(RUN) python deploy/pytest_strict.py -m "not integration and not e2e" $(PYTEST_ARGS)

lint: bootstrap ## Lint the code (ruff)
	@$(RUN) ruff check .

typecheck: bootstrap ## Type-check the code (mypy; what and how: [tool.mypy] in pyproject.toml)
	@$(RUN) mypy

contracts: bootstrap ## Regenerate contracts/ JSON Schemas and AsyncAPI after changing events
	@$(RUN) python -m chorale_contracts.export

docs: bootstrap ## Regenerate the README's configuration table, Prometheus' targets and compose's services
	@$(RUN) python deploy/config_table.py
	@$(RUN) python deploy/service_files.py
	@$(RUN) python -m chorale_identity.error_docs

bench: bootstrap ## Run the benchmarks and print their figures
	@$(RUN) python bench/run.py $(BENCH_ARGS)

# BROWSER=1: the journey done by people in the portal (headless chromium); HEADED=1 as well:
# in a visible window, which needs a display (a desktop session, or run it under xvfb-run).
demo: up ## Bring the system up if needed, then play the webinar's journey, narrated (BROWSER=1: in the portal; HEADED=1: visible, needs a display)
	@$(RUN) chorale demo $(if $(or $(BROWSER),$(HEADED)),--browser) $(if $(HEADED),--headed)

demo-browser: up ## The webinar's journey done in the portal, headless (HEADED=1: visible window, needs a display)
	@$(RUN) chorale demo --browser $(if $(HEADED),--headed)

infra-up: ## Start only Kafka and the database (local processes)
	@$(INFRA) start --instance dev

infra-down: ## Stop only Kafka and the database
	@$(INFRA) stop --instance dev

clean: down ## Stop everything and delete local data (var/)
	rm -rf var/
