# The two commands of the README are `make serve` and `make test`; everything they need
# (virtualenv, packages, Kafka jars, PostgreSQL) is installed on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: serve test test-unit lint typecheck docs demo bench kafka-up kafka-down pg-up pg-down clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

venv: $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/ruskontrakt serve

test: $(STAMP) kafka-up pg-up
	$(PY) -m pytest

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy domain

docs: $(STAMP)
	@command -v dot >/dev/null || apt-get install -y -q graphviz
	$(PY) -m infra.diagram docs

demo: $(STAMP)
	$(VENV)/bin/ruskontrakt demo

kafka-up:
	bash infra/kafka/kafka.sh up

kafka-down:
	bash infra/kafka/kafka.sh down

pg-up:
	bash infra/db/pg.sh up

pg-down:
	bash infra/db/pg.sh down

clean: kafka-down pg-down
	rm -rf var

bench: $(STAMP) pg-up kafka-up
	$(PY) -m bench.run_all
