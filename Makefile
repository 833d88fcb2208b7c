# The two commands of the README are `make serve` and `make test`; everything they need
# (virtualenv, packages, Kafka jars, PostgreSQL) is installed on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
UV := $(VENV)/bin/uv
# Every runtime and dev dependency, pinned with hashes; `make lock` writes it from pyproject.toml.
LOCK := requirements.lock
# Named for the content of both, so a changed lock or pyproject.toml installs again.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | sha1sum | cut -c1-12)
# `make lock LOCK_FLAGS=--upgrade` moves every pin to the newest allowed version,
# `LOCK_FLAGS='--upgrade-package fastapi'` one; plain `make lock` keeps the pins it can.
LOCK_FLAGS ?=
# The web assets (Designsystemet CSS, htmx, Swagger UI; axe-core for the browser tests), exactly
# infra/web/package-lock.json, installed by npm ci without install scripts; named for the lock.
WEB := infra/web
ASSETS := $(WEB)/node_modules/.installed-$(shell cat $(WEB)/package-lock.json | sha1sum | cut -c1-12)

# The AsyncAPI CLI that validates docs/asyncapi.yaml: exactly its package-lock.json, installed
# into tools/asyncapi/ on first use (4.1.1: the newest that runs on Node 20). CI=true and
# the config file keep it from reporting usage anywhere.
ASYNCAPI_DIR := tools/asyncapi
ASYNCAPI := $(ASYNCAPI_DIR)/node_modules/.bin/asyncapi

.PHONY: serve test test-unit lint typecheck lock docs demo bench kafka-up kafka-down pg-up pg-down clean \
	assets chromium screenshots
.PHONY: asyncapi asyncapi-validate

# Exactly the lock, hash-checked, nothing resolved; then the project itself, built by the
# locked setuptools (no build isolation, so nothing is fetched for the build either).
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	$(PIP) check || { echo "requirements.lock misses what pyproject.toml asks for: make lock"; exit 1; }
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

# uv from the lock, without installing the project: `make lock` must work while
# pyproject.toml names a dependency the lock does not have yet.
$(UV): $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --require-hashes --no-deps -r $(LOCK)
	@touch $(UV)

lock: $(UV)
	$(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes --extra dev \
		--custom-compile-command 'make lock' $(LOCK_FLAGS) --output-file $(LOCK) pyproject.toml

venv: $(STAMP)

$(ASSETS): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --ignore-scripts --no-audit --no-fund
	@touch $(ASSETS)

assets: $(ASSETS)

# Debian's chromium for the browser tests (Playwright downloads none); installed when missing.
chromium:
	@command -v chromium >/dev/null || bash $(WEB)/chromium.sh

serve: $(STAMP) $(ASSETS)
	$(VENV)/bin/ruskontrakt serve

test: $(STAMP) $(ASSETS) chromium asyncapi-validate kafka-up pg-up
	$(PY) -m pytest

# The browser tests write every page to var/screenshots/; the README shows three of them.
screenshots: $(STAMP) $(ASSETS) chromium
	$(PY) -m pytest tests/browser -q
	mkdir -p docs/screenshots
	for page in worklist case export; do cp var/screenshots/readme-$$page.png docs/screenshots/$$page.png; done

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit

# All three run, whichever fails; mypy is strict on domain/ and services/ (pyproject.toml).
lint: $(STAMP)
	@status=0; for command in "ruff check ." "ruff format --check ." "mypy domain services"; do \
		echo "$(VENV)/bin/$$command"; $(VENV)/bin/$$command || status=1; \
	done; exit $$status

typecheck: $(STAMP)
	$(VENV)/bin/mypy domain services

docs: $(STAMP)
	@command -v dot >/dev/null || apt-get install -y -q graphviz
	$(PY) -m infra.diagram docs

demo: $(STAMP)
	$(VENV)/bin/ruskontrakt demo

# docs/asyncapi.yaml and docs/schemas/agency/ from the code (tests/unit/test_asyncapi.py
# fails while they differ).
asyncapi: $(STAMP)
	$(VENV)/bin/ruskontrakt asyncapi --write docs

$(ASYNCAPI): $(ASYNCAPI_DIR)/package.json $(ASYNCAPI_DIR)/package-lock.json
	npm ci --prefix $(ASYNCAPI_DIR) --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $(ASYNCAPI)

asyncapi-validate: $(ASYNCAPI)
	CI=true ASYNCAPI_METRICS_CONFIG_PATH=$(CURDIR)/$(ASYNCAPI_DIR)/analytics.json \
		$(ASYNCAPI) validate docs/asyncapi.yaml --fail-severity warn

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
