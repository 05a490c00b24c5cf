# The project's commands. `make test` and `make dev` bootstrap .venv from the project's own files.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements-dev.txt functions/authorizer/requirements.txt functions/api/requirements.txt

.PHONY: test lint format clean

$(STAMP): $(REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## test: the whole suite (unit, integration over 127.0.0.1, end to end)
test: $(STAMP)
	$(BIN)/python -m pytest

## lint: ruff (lint and format check) and mypy
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy functions tests

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
