# ChatPulse developer commands. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS ?= dev,transformer

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-%: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[$*]'
	@touch $@

.PHONY: install
install: $(VENV)/.installed-$(EXTRAS) ## Create .venv and install ChatPulse with dev extras

# PORT=8081 serves the dashboard elsewhere (8080 taken); ARGS="..." passes more `run` options.
.PHONY: demo
demo: $(VENV)/.installed-demo ## From a fresh clone: install and run the demo (synthetic chat -> dashboard; PORT=N, ARGS=...)
	$(BIN)/chatpulse run --demo $(if $(PORT),--port $(PORT)) $(ARGS)

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	@touch $@

.PHONY: lint
lint: install ## ruff + mypy --strict
	$(BIN)/ruff check chatpulse tests deploy
	$(BIN)/ruff format --check chatpulse tests deploy
	$(BIN)/mypy

.PHONY: browser
browser: ## Debian's headless Chromium for the dashboard browser test (installed when missing)
	command -v chromium || (apt-get update && apt-get install -y chromium)

# The tests get a broker of their own on free ports (with-broker.sh), stopped afterwards, pass or
# fail, so a broker on 9092/9093 (this checkout's or another one's) never gets in the way.
.PHONY: test
test: install browser ## From a fresh clone: install, lint, type check, run every test (unit + integration)
	$(MAKE) lint
	PYTHON=$(BIN)/python deploy/kafka/with-broker.sh $(BIN)/pytest -q tests

KAFKA_PORT ?= 9092
KAFKA_CONTROLLER_PORT ?= 9093

.PHONY: kafka-up
kafka-up: ## Start a local Kafka 4 broker (KRaft, 127.0.0.1:$KAFKA_PORT, controller $KAFKA_CONTROLLER_PORT; jars via mvn once)
	KAFKA_PORT=$(KAFKA_PORT) KAFKA_CONTROLLER_PORT=$(KAFKA_CONTROLLER_PORT) deploy/kafka/kafka-up.sh

# KAFKA_PORT reaches kafka-down.sh only when given (command line or environment): without it,
# every broker this checkout started is stopped.
.PHONY: kafka-down
kafka-down: ## Stop the local Kafka brokers (KAFKA_PORT=N: only that one; data stays in deploy/kafka/run/N)
	deploy/kafka/kafka-down.sh

.PHONY: test-unit
test-unit: install ## Unit tests only (no servers)
	$(BIN)/pytest -q tests/unit

.PHONY: bench
bench: install ## Run every benchmark; writes bench-results.json
	$(BIN)/chatpulse bench all

.PHONY: fmt
fmt: install ## Format and autofix
	$(BIN)/ruff format chatpulse tests deploy
	$(BIN)/ruff check --fix chatpulse tests deploy

# Airflow and Superset pin their own dependency sets: each lives in its own venv under deploy/.
AIRFLOW_VENV := deploy/airflow/.venv
SUPERSET_VENV := deploy/superset/.venv

$(AIRFLOW_VENV)/.installed: deploy/airflow/requirements.txt deploy/airflow/constraints.txt pyproject.toml
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/pip install --quiet -r deploy/airflow/requirements.txt -c deploy/airflow/constraints.txt
	$(AIRFLOW_VENV)/bin/pip install --quiet -e . -c deploy/airflow/constraints.txt
	@touch $@

.PHONY: airflow-venv
airflow-venv: $(AIRFLOW_VENV)/.installed ## Airflow 3 + ChatPulse in deploy/airflow/.venv (DAGs and their test)

$(SUPERSET_VENV)/.installed: deploy/superset/requirements.txt deploy/superset/constraints.txt
	$(PYTHON) -m venv $(SUPERSET_VENV)
	$(SUPERSET_VENV)/bin/pip install --quiet -r deploy/superset/requirements.txt -c deploy/superset/constraints.txt
	@touch $@

.PHONY: superset-venv
superset-venv: $(SUPERSET_VENV)/.installed ## Superset (pinned) in deploy/superset/.venv for the bundle test

.PHONY: superset-bundle
superset-bundle: ## Build deploy/superset/dist/chatpulse_superset.zip (import into Superset or Preset)
	$(PYTHON) deploy/superset/build_bundle.py

.PHONY: clean
clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
