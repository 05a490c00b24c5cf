# The project's commands. `make test` and `make dev` bootstrap .venv from the project's own files.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements-dev.txt functions/authorizer/requirements.txt functions/api/requirements.txt

.PHONY: test lint format build clean explain load

$(STAMP): $(REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## test: the whole suite (unit, integration over 127.0.0.1, end to end)
test: $(STAMP)
	$(BIN)/python -m pytest

## load: 5,000 requests at concurrency 50 over 127.0.0.1 (valid, forged, under-scoped; a key rotation
## midway) through the real authorizer; prints p50/p99 and throughput, fails on any wrong answer or 5xx
load: $(STAMP)
	PYTHONPATH=functions/authorizer:. $(BIN)/python -m tests.support.load

## lint: ruff (lint and format check) and mypy
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy functions tests

# sam build without Docker builds each function with the runtime's own Python, found on PATH by name.
RUNTIME_PYTHON ?= python3.12
SAM_VENV := .venv-sam
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam

$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet "aws-sam-cli>=1.130,<2"
	touch $@

## build: sam validate --lint, then sam build into .aws-sam/ without Docker (needs python3.12)
build: $(SAM_VENV)/.installed
	@command -v $(RUNTIME_PYTHON) >/dev/null || { echo "sam build needs the functions' runtime on PATH:" \
		"install python3.12, or run make build RUNTIME_PYTHON=/path/to/python3.12"; exit 1; }
	$(SAM) validate --lint
	PATH="$$(dirname "$$(command -v $(RUNTIME_PYTHON))"):$$PATH" $(SAM) build

## explain: why the authorizer accepts or refuses TOKEN, with the authorizer's variables from this
## environment or from ENV_FILE (the JSON of `aws lambda get-function-configuration --query Environment.Variables`)
explain: $(STAMP)
	@PYTHONPATH=functions/authorizer $(BIN)/python -m jwt_authorizer.explain $(if $(ENV_FILE),--env-file "$(ENV_FILE)")

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
