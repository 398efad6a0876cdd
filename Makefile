# Two set-up commands: `make run` and `make test`. Both bootstrap .venv on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DAYS ?= 14
UI_PORT ?= 3000
SERVE_PORT ?= 8000

# `dagster dev` runs dagster-dbt's prepare_if_dev(), which calls `dbt` from PATH: the venv's comes first,
# so nothing needs activating.
export PATH := $(CURDIR)/$(BIN):$(PATH)

export DAGSTER_HOME := $(CURDIR)/.dagster_home
export KLOUT_WAREHOUSE ?= $(CURDIR)/data/warehouse.duckdb
export GX_ANALYTICS_ENABLED := False
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1
export KLOUT_SERVE_PORT := $(SERVE_PORT)

.PHONY: lint run test ui serve browser bench bench-large bootstrap manifest clean rescore compare logs export erase import calibrate-reference

bootstrap: $(VENV)/.installed $(DAGSTER_HOME)/dagster.yaml manifest

$(VENV)/.installed: pyproject.toml
	@echo "Installing the project into $(VENV) (about a minute, once)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# -qq: errors only (some machines' pip configs name local indexes that are absent, one warning per package)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -e '.[test]'
	touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	mkdir -p $(DAGSTER_HOME) data
	cp $< $@

# dagster-dbt needs a manifest outside `dagster dev`; parsing is cheap and offline.
manifest: $(VENV)/.installed
	cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir . --project-dir .

run: bootstrap
	$(BIN)/python -m orchestration.cli run --days $(DAYS)

# ruff: lint (pycodestyle, pyflakes, import order, pyupgrade, bugbear) and format, config in pyproject.toml
lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project

# The browser tests drive the distribution's Chromium (never a downloaded one): found on PATH or at
# KLOUT_CHROMIUM, else installed with apt-get when we are root.
browser:
	@test -n "$$KLOUT_CHROMIUM" || command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
	  || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && echo "Installing chromium (apt-get)" \
	       && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || { echo "The browser tests need Chromium: apt-get install chromium, or KLOUT_CHROMIUM=/path/to/chrome"; exit 1; }

test: bootstrap lint browser
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=10

ui: bootstrap
	$(BIN)/dagster dev -w workspace.yaml -p $(UI_PORT)

# The site and the influence API over the snapshot the last run published (another port: make serve SERVE_PORT=8001)
serve: bootstrap
	$(BIN)/python -m web serve --port $(SERVE_PORT)

# The full event log of a run (default: the latest): make logs [RUN=<run id>]
logs: bootstrap
	$(BIN)/python -m orchestration.cli logs $(RUN)

bench: bootstrap
	$(BIN)/python -m tests.bench.run $(BENCH_ARGS)

# The large bench unattended: detached and niced, it returns at once; the run logs to
# bench_results/run-<timestamp>/bench.log and merges its size into docs/benchmarks.json/.md when done.
bench-large: bootstrap
	$(BIN)/python -m tests.bench.run --size large --background --nice 10 $(BENCH_ARGS)

# Formula versions: make rescore VERSION=v3 FROM=2026-08-01 TO=2026-11-20 (then make compare ...)
rescore: bootstrap
	$(BIN)/python -m orchestration.cli rescore $(VERSION) --from $(FROM) --to $(TO)

compare: bootstrap
	$(BIN)/python -m orchestration.cli compare $(VERSION) --from $(FROM) --to $(TO)

# Formula v2's calibration reference (README "The score"): two adversarial seed-1001 worlds (300 and
# 1,000 persons) built through the real pipeline into data/reference/, pooled, fitted, printed
calibrate-reference: bootstrap
	$(BIN)/python -m orchestration.calibrate --version $(or $(VERSION),v2) --build-reference data/reference

# Subject requests, audited in privacy.requests: make export PERSON=p000123 / make erase PERSON=p000123
export: bootstrap
	$(BIN)/python -m orchestration.cli export-person $(PERSON)

erase: bootstrap
	$(BIN)/python -m orchestration.cli erase-person $(PERSON)

# Interaction logs from files (docs/contracts.md, Bulk imports): make import FILE=path [NETWORK=name];
# FILE may be a Google+ Takeout archive (.zip or folder with Posts/*.json, docs/contracts.md, Google+ Takeout)
import: bootstrap
	$(BIN)/python -m orchestration.cli import $(FILE) $(if $(NETWORK),--network $(NETWORK))

clean:
	rm -rf data $(DAGSTER_HOME) dbt_project/target dbt_project/logs
