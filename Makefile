# Every target installs what it needs first: a fresh clone needs only Python 3.11+, Node 20+ and Java 17+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
ENV ?= dev

.PHONY: setup test lint bench synth clean run

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The local server (the README's first command); options through ARGS, e.g. make run ARGS="--memory --port 4001"
run: setup
	$(BIN)/python -m devserver --seed $(ARGS)

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# DynamoDB calls and import times, then the load test (options through LOAD_ARGS, e.g. LOAD_ARGS="--clients 8")
bench: setup
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.load $(LOAD_ARGS)

synth: setup
	rm -rf cdk.out
	CDK_OUTDIR=cdk.out CDK_CONTEXT_JSON='{"env": "$(ENV)"}' $(BIN)/python -m infra.app
	@echo "wrote cdk.out/InventoryApi-$(ENV).template.json (make synth ENV=prod for prod)"

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
