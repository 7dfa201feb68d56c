# Two commands matter:  `make demo` (see the daily DAG work)  and  `make test` (the suite CI runs).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DATA := $(CURDIR)/.data
# The demo shop's last day of orders; `airflow dags test` for the next day forecasts from it
# (a manual run processes the last complete day before its logical date).
DEMO_DAY ?= 2024-06-30
DEMO_NEXT_DAY = $(shell date -d '$(DEMO_DAY) + 1 day' +%F)
export FORECASTING_DATA_DIR ?= $(DATA)
export AIRFLOW_HOME ?= $(DATA)/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__PARALLELISM := 4
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true
export GX_ANALYTICS_ENABLED := false
# TensorFlow quiet: level 3 drops its C++ log lines; its oneDNN notice ("oneDNN custom
# operations are on ...") prints at import whatever the level unless oneDNN is off (op
# determinism is on while the mlp fits anyway).
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0

.PHONY: install system-deps system-check demo app airflow-ui docs test lint unit bench-store-item bench-online-retail scale-seed scale-bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(wildcard requirements*.txt) pyproject.toml bench/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --only-binary=:all: -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e . -e bench
	touch $@

install: $(VENV)/.installed  ## create .venv with the pinned requirements, the package and its benchmarks

# What must stay a Debian package: the browser the planner report and the planner app are
# opened in by the tests, and the driver the app's test drives it with (never downloaded).
# `make test` checks for their commands first.
SYSTEM_PACKAGES := chromium chromium-driver
# The commands they provide, which make test checks for.
SYSTEM_COMMANDS := chromium chromedriver

system-deps:  ## install the system packages the tests need (as root: sudo make system-deps)
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null

system-check:
	@missing=$$(for p in $(SYSTEM_COMMANDS); do command -v $$p >/dev/null || printf ' %s' $$p; done); \
	if [ -n "$$missing" ]; then echo "make test needs the command(s)$$missing (packages $(SYSTEM_PACKAGES)): sudo make system-deps"; exit 1; fi

# The demo runs on its own SQLite shop, MLflow store, storage and Airflow home under the data
# folder, whatever the environment points at: it never seeds (empties and refills) a database
# someone configured, and never reads or writes their shop, MLflow server, bucket or Airflow
# connections. Your own shop: docs/operators/configuration.md, "Run it on your shop".
DEMO := env -u FORECASTING_SOURCE_URL -u FORECASTING_WAREHOUSE_URL -u FORECASTING_STORAGE_URI \
	-u MLFLOW_TRACKING_URI -u FORECASTING_ARTIFACT_ROOT -u AIRFLOW_CONN_FORECASTING_SOURCE \
	-u AIRFLOW_CONN_FORECASTING_WAREHOUSE -u AIRFLOW_CONN_FORECASTING_STORAGE \
	-u AIRFLOW__SECRETS__BACKEND -u AIRFLOW__SECRETS__BACKEND_KWARGS AIRFLOW_HOME=$(DATA)/airflow

demo: install  ## seed a synthetic shop, run the daily DAG for two days, print what it did, judge the next day's 15:00
	@if [ -n "$$FORECASTING_SOURCE_URL$$AIRFLOW_CONN_FORECASTING_SOURCE" ]; then \
		echo "make demo uses its own SQLite shop in $(FORECASTING_DATA_DIR), not the shop your environment names (docs/operators/configuration.md: Run it on your shop)"; fi
	@$(DEMO) $(BIN)/forecasting seed-demo --end-date $(DEMO_NEXT_DAY)
	@mkdir -p $(DATA)
	@echo "Airflow: airflow db migrate (log: .data/airflow-db-migrate.log) ..."
	@$(DEMO) $(BIN)/airflow db migrate > $(DATA)/airflow-db-migrate.log 2>&1 \
		|| { tail -n 30 $(DATA)/airflow-db-migrate.log; exit 1; }
	@for day in $(DEMO_DAY) $(DEMO_NEXT_DAY); do \
		logical=$$(date -d "$$day + 1 day" +%F); \
		echo "Airflow: airflow dags test demand_forecast $$logical (the run for $$day) ..."; \
		$(DEMO) $(BIN)/airflow dags test demand_forecast $$logical > $(DATA)/airflow-dags-test-$$day.log 2>&1 \
			|| { tail -n 60 $(DATA)/airflow-dags-test-$$day.log; exit 1; }; \
		grep -E "DagRun Finished" $(DATA)/airflow-dags-test-$$day.log | tail -n 1 \
			| sed "s/.*\(state=[a-z]*\).*/Airflow: demand_forecast $$logical \1 (log: .data\/airflow-dags-test-$$day.log)/"; \
	done
	@$(DEMO) $(BIN)/forecasting summary --date $(DEMO_DAY)
	@echo; echo "----- the next day: the champion is reused, monitoring joins day one's forecasts with its actuals -----"
	@$(DEMO) $(BIN)/forecasting summary --date $(DEMO_NEXT_DAY)
	@echo; echo "----- intraday: $(DEMO_NEXT_DAY) up to 15:00 against its published forecast (the demand_nowcast DAG's step) -----"
	@$(DEMO) $(BIN)/forecasting nowcast --at "$(DEMO_NEXT_DAY) 15:00"
	@echo; echo "Airflow's UI on these runs: make airflow-ui (then http://127.0.0.1:8080)"
	@echo "The planner app (forecasts, why they changed, what to order): make app (then http://127.0.0.1:8050)"

# The planner app on the demo's warehouse (forecasting app; docs/planner_app.md). Ctrl-C stops it.
app: install  ## the planner app on the demo's warehouse: http://127.0.0.1:8050 (after make demo)
	@$(DEMO) $(BIN)/forecasting app --port 8050

# Airflow's UI on the demo's runs. `airflow standalone` starts its components by the name
# `airflow`, so the virtualenv's bin goes first on PATH; the demo's environment (its own
# AIRFLOW_HOME, no shop or MLflow of yours) as for `make demo`. Ctrl-C stops it.
airflow-ui: install  ## Airflow's UI on the demo's runs: http://127.0.0.1:8080 (after make demo)
	@test -e $(DATA)/airflow/airflow.db || echo "no demo runs in $(DATA)/airflow yet: run make demo first"
	PATH=$(abspath $(BIN)):$$PATH $(DEMO) AIRFLOW__API__HOST=127.0.0.1 AIRFLOW__API__PORT=8080 \
		$(abspath $(BIN))/airflow standalone

docs: install  ## build the documentation site (strict: a broken link fails) into .data/site
	$(BIN)/mkdocs build --strict --quiet -d $(DATA)/site

lint: install  ## ruff (lint + format) and mypy
	$(BIN)/ruff check src tests dags plugins bench
	$(BIN)/ruff format --check src tests dags plugins bench
	$(BIN)/mypy

test: system-check docs lint  ## the docs (strict), then the whole suite: unit, integration (real MariaDB, MLflow, GX) and Airflow runs
	$(BIN)/python -m pytest -q --durations=15

unit: install  ## fast unit tests only
	$(BIN)/python -m pytest -q tests/unit

bench-store-item: install  ## benchmark vs peers on Store Item Demand (about 13 min)
	$(BIN)/forecasting benchmark store-item-demand --data-dir ../shared/data -v

bench-online-retail: install  ## benchmark vs peers on UCI Online Retail (about 10 min)
	$(BIN)/forecasting benchmark online-retail --data-dir ../shared/data -v

# The scale benchmark's database: FORECASTING_SOURCE_URL when set, else a local MariaDB one.
SCALE_URL ?= $(or $(FORECASTING_SOURCE_URL),mysql://root@127.0.0.1:3306/forecasting_scale)

scale-seed: install  ## bulk-load 3,000 SKUs x 10 locations x 3 years into MariaDB (about 5 min)
	$(BIN)/python bench/scale.py seed --source-url $(SCALE_URL)

scale-bench: install  ## the whole DAG on the scale catalogue, two days: time and memory per task
	$(BIN)/python bench/scale.py bench --source-url $(SCALE_URL)

clean:  ## remove the local data folder (SQLite shop, MLflow store, Airflow home)
	rm -rf $(DATA)
