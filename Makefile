# Two entry points: `make run` (the service on 127.0.0.1:5000) and `make test` (the full suite).
# Everything else here is what those two need on a fresh machine.

VENV        ?= .venv
BIN         := $(VENV)/bin
PYTHON      ?= python3
HOST        ?= 127.0.0.1
PORT        ?= 5000
POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
export INTAKE_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test test-sqlite test-postgres lint install system-deps translations bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

translations: install
	$(BIN)/pybabel compile --use-fuzzy -d intake/translations -D messages >/dev/null

system-deps:
	bin/system-deps

run: install translations
	@VENV=$(VENV) exec bin/serve-local $(HOST) $(PORT)

test: system-deps install translations lint test-sqlite test-postgres

lint: install
	$(BIN)/ruff check intake tests bench
	$(BIN)/mypy

test-sqlite: install translations
	INTAKE_DATABASE_URL= $(BIN)/pytest -n 2 --dist loadgroup -q

test-postgres: install translations
	bin/ensure-postgres
	bin/ensure-redis
	INTAKE_DATABASE_URL=$(POSTGRES_URL) $(BIN)/pytest -n 2 --dist loadgroup -q

bench: install translations
	bin/system-deps --bench
	$(BIN)/python bench/submit.py
	$(BIN)/python bench/waitlist.py
	bin/ensure-postgres
	$(BIN)/python bench/inbox.py --postgres $(POSTGRES_URL)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
