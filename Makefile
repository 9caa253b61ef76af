# The two commands of the README, and the pieces they are made of.
# `make demo` and `make test` install everything they need into .venv on first use.

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit neo4j-start neo4j-stop bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

## The main job: the demo on the embedded store (no server needed).
demo: $(STAMP)
	$(BIN)/iffgraph demo

## The whole test suite: lint, types, then pytest against both stores with a real Neo4j.
test: lint typecheck
	scripts/run-tests

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

## Only the embedded half of the suite, for a quick local loop (deselects, never skips).
unit: $(STAMP)
	$(BIN)/pytest -m "not neo4j" -q

neo4j-start:
	scripts/neo4j-local start

neo4j-stop:
	scripts/neo4j-local stop

bench: $(STAMP)
	scripts/run-benchmarks

clean:
	rm -rf $(VENV) .iffgraph .mypy_cache .ruff_cache .pytest_cache
