# Gongshi — the two commands: `make demo` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo demo-real test test-hours lint typecheck unit services-up services-down browser-deps pdf-deps clean schemas bench bench-es

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## make demo: generate 2,000 entities, load them through the ingestion path, serve on :8000
demo: $(STAMP)
	bash infra/provision/browser.sh fonts
	bash infra/provision/pdf-tools.sh runtime
	bash infra/demo.sh

## make test: provision and start the real engines, then lint, types, the whole suite, and the
## engine-free tests again at four hours of the UTC day (tests/at_hours.sh)
test: $(STAMP) services-up browser-deps pdf-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest
	bash tests/at_hours.sh

## make test-hours: only the engine-free tests at 00:30, 08:30, 16:30 and 23:30 UTC
test-hours: $(STAMP)
	bash tests/at_hours.sh

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

schemas: $(STAMP)
	$(BIN)/python -m infra.schemas --write
	$(BIN)/python -m api.access --write

services-up:
	bash infra/provision/services.sh up

## make demo-real: the demo on Kafka + PostgreSQL + Elasticsearch
demo-real: $(STAMP) services-up
	bash infra/provision/pdf-tools.sh runtime
	GONGSHI_KAFKA_BOOTSTRAP=127.0.0.1:9092 \
	GONGSHI_POSTGRES_DSN=postgresql://gongshi:gongshi@127.0.0.1:5432/gongshi \
	GONGSHI_ELASTICSEARCH_URL=http://127.0.0.1:9200 \
	GONGSHI_DATA_DIR=var/real bash infra/demo.sh

browser-deps:
	bash infra/provision/browser.sh

## pdf-deps: Pango for WeasyPrint, poppler-utils and veraPDF (the extracts' tests)
pdf-deps:
	bash infra/provision/pdf-tools.sh

services-down:
	bash infra/provision/services.sh down

bench: $(STAMP)
	$(BIN)/python bench/load.py

## make bench-es: the Elasticsearch benchmarks of docs/BENCHMARKS.md (1,000,000 entities: ~30 min)
bench-es: $(STAMP) services-up
	bash infra/provision/bench-tools.sh
	$(BIN)/python bench/rebuild.py --entities 1000000 --prefix bench
	$(BIN)/python bench/search.py --prefix bench --clients 1 50 200
	$(BIN)/python bench/search.py --prefix bench --clients 50 200 --think 1
	$(BIN)/python bench/rebuild_store.py --entities 20000

clean:
	rm -rf var test-artifacts
