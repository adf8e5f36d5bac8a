# rtinfer: the same targets locally and in CI.
PYTHON ?= python3
VENV ?= .venv
RTINFER_CACHE ?= $(HOME)/.cache/rtinfer
export PIP_CACHE_DIR ?= $(RTINFER_CACHE)/pip
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The runtime (what the four services need) plus every extra: the rtinfer CLI (tools), locust
# (load), the benchmarks (bench) and the test and lint tools (dev).
EXTRAS := dev,tools,load,bench

.PHONY: venv system-packages test test-unit chaos fuzz lint lint-imports asyncapi fmt stack-up stack-down stack-status lock demo load bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[$(EXTRAS)]'
	@touch $@

venv: $(STAMP)

## system-packages: the Debian packages the native stack needs (redis-server; a JRE and Maven when
## java/mvn are missing), installed with apt-get as root, else the exact command is printed
system-packages:
	bash scripts/ensure-system-packages.sh

## test: the whole suite against real servers (native stack unless env vars or Docker say otherwise;
## for the native stack, scripts/run-tests.sh installs missing system packages first)
test: venv
	VENV=$(VENV) bash scripts/run-tests.sh $(PYTEST_ARGS)

## test-unit: the fast unit tests only, no servers
test-unit: venv
	$(BIN)/pytest -m unit $(PYTEST_ARGS)

## chaos: the fault suite alone against the native stack (bounded), with its table of figures
chaos: venv
	VENV=$(VENV) bash scripts/run-tests.sh -m chaos $(PYTEST_ARGS)

FUZZ_TIME ?= 600

## fuzz: the edge (decoders, dead-letter builder) under atheris for FUZZ_TIME seconds; corpus in var/fuzz
fuzz: venv
	mkdir -p var/fuzz
	$(BIN)/python -m tests.fuzz.decoders -max_total_time=$(FUZZ_TIME) -rss_limit_mb=3072 var/fuzz

## lint: ruff (lint + format check), mypy, and the import contracts (import-linter)
lint: venv lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## asyncapi: docs/asyncapi.json through the official parser (@asyncapi/parser, pinned in tools/asyncapi)
asyncapi:
	bash scripts/validate-asyncapi.sh

## lint-imports: the import contracts in pyproject.toml ([tool.importlinter])
lint-imports: venv
	$(BIN)/lint-imports

fmt: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

stack-up: venv system-packages
	$(BIN)/rtinfer stack up

stack-down: venv
	$(BIN)/rtinfer stack down

stack-status: venv
	$(BIN)/rtinfer stack status

## demo: the whole pipeline on embedded defaults, no servers (DRIFT=amounts|merchant-mix|new-pattern)
demo: venv
	$(BIN)/rtinfer demo $(if $(DRIFT),--drift $(DRIFT))

LOAD_RATE ?= 200
LOAD_TIME ?= 60s

## load: locust headless, LOAD_TIME at LOAD_RATE payments/s against the native stack (127.0.0.1 only);
## starts the model server and scoring service it needs, stops them after; reports in loadtest/reports/
load: venv system-packages
	VENV=$(VENV) LOAD_RATE=$(LOAD_RATE) LOAD_TIME=$(LOAD_TIME) LOAD_ARGS="$(LOAD_ARGS)" bash scripts/load.sh

## bench: every benchmark, figures printed (not tests)
bench: venv
	$(BIN)/rtinfer bench codec
	$(BIN)/rtinfer bench model
	$(BIN)/rtinfer bench vectors
	$(BIN)/rtinfer bench features
	$(BIN)/rtinfer bench pipeline

## lock: re-resolve the dependency pins from pyproject.toml
lock:
	rm -rf $(RTINFER_CACHE)/lock-venv
	$(PYTHON) -m venv $(RTINFER_CACHE)/lock-venv
	$(RTINFER_CACHE)/lock-venv/bin/pip install -q --upgrade pip
	$(RTINFER_CACHE)/lock-venv/bin/pip install -q '.[$(EXTRAS)]'
	{ echo "# Pinned versions known to resolve together (pip install -c constraints.txt -e '.[$(EXTRAS)]')."; \
	  echo "# Regenerate: make lock"; \
	  $(RTINFER_CACHE)/lock-venv/bin/pip freeze | grep -v -e '^-e' -e '^rtinfer' | sort -f; } > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
