# The project's commands. `make test` and `make dev` bootstrap .venv from the project's own files.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements-dev.txt local/requirements.txt functions/authorizer/requirements.txt \
	functions/api/requirements.txt

.PHONY: test lint format build check-runtime validate checkov bench clean explain dev token proof rotate-key load sam-local test-sam

$(STAMP): $(REQUIREMENTS) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-compile --no-deps --editable .
	touch $(STAMP)

# The local stack's ports, and an optional real issuer to trust instead of the local provider:
#   make dev ISSUER=https://example.okta.com/oauth2/default AUDIENCE=api://default
# or another template and the local provider's clients for it (docs/protect-your-own-api.md):
#   make dev TEMPLATE=examples/own-api/template.yaml PROVIDER_CONFIG=examples/own-api/provider.json
API_PORT ?= 3000
PROVIDER_PORT ?= 3001
DYNAMODB_PORT ?= 8000
ISSUER ?=
AUDIENCE ?=
JWKS_URI ?=
SCOPE ?=
TEMPLATE ?=
PROVIDER_CONFIG ?=
CLIENT ?= dev-client
# DPoP (docs/dpop.md): make dev DPOP=required (or allowed) deploys the template with that Dpop mode;
# make token DPOP=1 asks for a token bound to this machine's DPoP key; make proof signs one request's proof.
DPOP ?=
METHOD ?= GET
URL ?=
TOKEN ?=

# `make dev` installs only what the local stack runs (local/requirements.txt): about half the time of
# the full development set, which `make test` and `make lint` add on top. --no-compile: byte-compiling
# every installed module up front (moto alone has some 1,500) costs more than compiling, at first import,
# the few the stack runs.
DEV_STAMP := $(VENV)/.installed-dev
$(DEV_STAMP): local/requirements.txt $(REQUIREMENTS) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-compile -r local/requirements.txt
	$(BIN)/python -m pip install --quiet --no-compile --no-deps --editable .
	touch $(DEV_STAMP)

## dev: the API on 127.0.0.1:$(API_PORT), an OpenID provider on 127.0.0.1:$(PROVIDER_PORT) and a DynamoDB on
## 127.0.0.1:$(DYNAMODB_PORT) with the template's table (in memory), in the foreground
dev: $(DEV_STAMP)
	$(BIN)/python -m local dev --api-port $(API_PORT) --provider-port $(PROVIDER_PORT) --dynamodb-port $(DYNAMODB_PORT) \
		$(if $(ISSUER),--issuer '$(ISSUER)' --audience '$(AUDIENCE)') $(if $(JWKS_URI),--jwks-uri '$(JWKS_URI)') \
		$(if $(TEMPLATE),--template '$(TEMPLATE)') $(if $(PROVIDER_CONFIG),--provider-config '$(PROVIDER_CONFIG)') \
		$(if $(DPOP),--parameter 'Dpop=$(DPOP)')

## token: print an access token from the running local provider (make token SCOPE="messages:read"),
## for CLIENT (a client of local/provider.json; default dev-client)
token: $(DEV_STAMP)
	@$(BIN)/python -m local token --provider-port $(PROVIDER_PORT) --scope '$(SCOPE)' --client-id '$(CLIENT)' \
		$(if $(DPOP),--dpop)

## proof: print a DPoP proof for one request (make proof METHOD=POST URL=http://127.0.0.1:3000/messages
## TOKEN=<the token>), signed with the key `make token DPOP=1` bound the token to; one per request
proof: $(DEV_STAMP)
	@$(BIN)/python -m local proof --method '$(METHOD)' --url '$(URL)' --token '$(TOKEN)'

## rotate-key: sign new tokens with a new key; the old key stays published until its tokens expire
rotate-key: $(DEV_STAMP)
	$(BIN)/python -m local rotate-key

# Proofs from an independent DPoP implementation (panva's `dpop` for Node), installed from its lock file
# when npm is there; without it those tests are skipped and say why.
DPOP_INTEROP := tests/interop/dpop-js
$(DPOP_INTEROP)/node_modules/.package-lock.json: $(DPOP_INTEROP)/package.json $(DPOP_INTEROP)/package-lock.json
	npm ci --prefix $(DPOP_INTEROP) --no-audit --no-fund --loglevel=error

## test: the whole suite (unit, integration over 127.0.0.1, end to end)
test: $(STAMP) $(if $(shell command -v npm),$(DPOP_INTEROP)/node_modules/.package-lock.json)
	$(BIN)/python -m pytest

## load: the local stack on free ports, 5,000 requests at concurrency 50 (valid, forged, under-scoped; the
## provider's key rotated midway); prints p50/p99, throughput and JWKS fetches, fails on any wrong answer
## or 5xx. LOAD_REQUESTS, LOAD_CONCURRENCY, LOAD_CACHE_TTL (authorizer result cache, 0: off), LOAD_SECONDS
load: $(STAMP)
	PYTHONPATH=functions/authorizer:. $(BIN)/python -m tools.load

## lint: ruff (lint and format check) and mypy
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy functions local tests bench devkit tools

# sam build without Docker builds each function with the runtime's own Python, found on PATH by name: the
# template's Runtime (python3.12...), unless RUNTIME_PYTHON=/path/to/python3.x says where it is.
RUNTIME := $(shell sed -n 's/^ *Runtime: *\(python[0-9.]*\).*/\1/p' template.yaml | head -1)
RUNTIME_PYTHON ?= $(RUNTIME)
# The functions' architecture (the template's Architecture parameter): arm64 deploys unless told otherwise.
ARCHITECTURE ?= arm64
SAM_VENV := .venv-sam
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam

$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet "aws-sam-cli>=1.130,<2"
	touch $@

## build: sam validate --lint, then sam build into .aws-sam/ without Docker (needs the Runtime's Python;
## ARCHITECTURE=x86_64 builds for x86_64, then deploy with --parameter-overrides Architecture=x86_64)
build: check-runtime $(SAM_VENV)/.installed
	$(SAM) validate --lint
	PATH="$$(dirname "$$(command -v $(RUNTIME_PYTHON))"):$$PATH" LAMBDA_ARCHITECTURE=$(ARCHITECTURE) \
		$(SAM) build --parameter-overrides Architecture=$(ARCHITECTURE)

## sam-local: the functions in Docker under `sam local start-api` on 127.0.0.1:$(API_PORT), the local provider
## on :$(PROVIDER_PORT) and DynamoDB on :$(DYNAMODB_PORT), in the foreground; built for this machine into
## .aws-sam/local. More SAM CLI arguments: SAM_LOCAL_ARGS="--skip-pull-image --warm-containers LAZY";
## another template: TEMPLATE=examples/http-api/template.yaml
SAM_LOCAL_ARGS ?=
sam-local: $(DEV_STAMP) $(SAM_VENV)/.installed
	$(BIN)/python -m local sam-local --sam $(SAM_VENV)/bin/sam --api-port $(API_PORT) \
		--provider-port $(PROVIDER_PORT) --dynamodb-port $(DYNAMODB_PORT) $(if $(filter command line environment,$(origin RUNTIME_PYTHON)), \
		--runtime-python '$(RUNTIME_PYTHON)') --sam-args='$(SAM_LOCAL_ARGS)' $(if $(TEMPLATE),--template '$(TEMPLATE)') \
		$(if $(DPOP),--parameter 'Dpop=$(DPOP)')

## test-sam: only the SAM CLI tests (sam local start-api through make sam-local, sam local invoke for every
## event in events/); they need Docker and the Lambda Python base image, and are skipped without them
test-sam: $(STAMP) $(SAM_VENV)/.installed
	RUNTIME_PYTHON='$(RUNTIME_PYTHON)' $(BIN)/python -m pytest -m sam

# Runs the interpreter rather than look for it: an inactive pyenv shim is on PATH (`command -v` finds it)
# and only fails when run, with pyenv's own message.
check-runtime:
	@"$(RUNTIME_PYTHON)" -c "" >/dev/null 2>&1 || { echo "sam build needs the functions' runtime:" \
		"$(RUNTIME_PYTHON) is not on PATH or does not run (an inactive pyenv shim?). Install $(RUNTIME)," \
		"or run make build RUNTIME_PYTHON=/path/to/$(RUNTIME)" >&2; exit 1; }

## validate: sam validate --lint on the template as deployed with each combination of its options, and on
## the HTTP API variant (examples/http-api/template.yaml)
validate: $(STAMP) $(SAM_VENV)/.installed
	rm -rf .aws-sam/variants
	$(BIN)/python -m tools.stack_options .aws-sam/variants
	@for template in .aws-sam/variants/*.json; do \
		$(SAM) validate --lint --template "$$template" >/dev/null || { echo "$$template: invalid" >&2; exit 1; }; \
	done; echo "sam validate --lint: all $$(ls .aws-sam/variants | wc -l) combinations valid"
	$(SAM) validate --lint --template examples/http-api/template.yaml

# checkov in a virtualenv of its own: its pinned dependencies never meet the development tools in .venv.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

## checkov: checkov on template.yaml and its deployed translations; fails on a finding that
## .ci/checkov-baseline.yaml does not justify (and on a baseline entry that no longer matches one)
checkov: $(STAMP) $(CHECKOV_VENV)/.installed
	rm -rf .aws-sam/checkov .aws-sam/checkov-report.json
	$(BIN)/python -m tools.checkov_gate prepare .aws-sam/checkov
	# --skip-download: checkov reads no guidelines from its vendor's servers; exit 1 means findings.
	$(CHECKOV_VENV)/bin/checkov --skip-download --framework cloudformation -o json -f template.yaml \
		$$(printf -- '-f %s ' .aws-sam/checkov/*.json) > .aws-sam/checkov-report.json || test $$? -eq 1
	$(BIN)/python -m tools.checkov_gate check .aws-sam/checkov-report.json .ci/checkov-baseline.yaml

## explain: why the authorizer accepts or refuses TOKEN, with the authorizer's variables from ENV_FILE (the
## JSON of `aws lambda get-function-configuration --query Environment.Variables`), else from the running
## `make dev` (.local/authorizer-env.json) unless ISSUER is set, else from this environment. Needs only the
## local stack's install. make exits 0 for an accepted token, else 2; its last line names the tool's own
## code (`Error 1`: 401, 2: keys unavailable, 3: bad settings, 4: nothing to explain)
explain: $(DEV_STAMP)
	@PYTHONPATH=functions/authorizer:. $(BIN)/python -m tools.explain $(if $(ENV_FILE),--env-file "$(ENV_FILE)") \
		$(if $(URL),--method '$(METHOD)' --url '$(URL)')

## bench: warm latency, cold start and JWKS traffic side by side; writes docs/performance.md
bench: $(STAMP)
	PYTHONPATH=functions/authorizer:. $(BIN)/python -m bench

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .bench .pytest_cache .mypy_cache .ruff_cache
