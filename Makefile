# NexusOps: `make run` (embedded console with demo data) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run PORT=8001 NEXUSOPS_STANDIN_PORT_BASE=8200` when the defaults are taken.
PORT ?= 8000
# Procfile.dev's processes `make run` starts: the Mattermost pin listener only when
# NEXUSOPS_CHAT names Mattermost.
PROCESSES := web worker beat standins idp$(if $(findstring mattermost,$(NEXUSOPS_CHAT)), mattermost,)

.PHONY: run test test-smoke lint fmt venv bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	PORT=$(PORT) $(BIN)/python scripts/preflight.py
	$(BIN)/python manage.py migrate --noinput
	NEXUSOPS_STANDINS=1 $(BIN)/python manage.py seed_demo
	PORT=$(PORT) $(BIN)/python scripts/banner.py
	NEXUSOPS_STANDINS=1 SITE_URL="$${SITE_URL:-http://127.0.0.1:$(PORT)}" \
		PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev -p $(PORT) $(PROCESSES)

test: $(STAMP)
	$(BIN)/python scripts/run_tests.py $(ARGS)

# The short part CI also runs on the embedded defaults (SQLite + filesystem broker).
test-smoke: $(STAMP)
	NEXUSOPS_TEST_EMBEDDED=1 $(BIN)/python scripts/run_tests.py -m smoke $(ARGS)

# mypy checks the service layer, the selectors and the adapters (config: pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var staticfiles
