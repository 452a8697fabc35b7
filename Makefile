# Gongshi — the two commands: `make demo` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo demo-real test lint typecheck unit services-up services-down clean schemas bench

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## make demo: generate 2,000 entities, load them through the ingestion path, serve on :8000
demo: $(STAMP)
	bash infra/demo.sh

## make test: lint, types, and the whole suite
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

schemas: $(STAMP)
	$(BIN)/python -m infra.schemas --write

services-up:
	bash infra/provision/services.sh up

services-down:
	bash infra/provision/services.sh down

bench: $(STAMP)
	$(BIN)/python bench/load.py

clean:
	rm -rf var test-artifacts
