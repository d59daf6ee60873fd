# The Lambda runtime is python3.12; the virtual environment uses the same version so that
# `sam build` (which needs the exact python3.12 on PATH) and the local engine match it.
PYTHON ?= $(firstword $(shell python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null) $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12))
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: demo test test-ceiling lint build sar-template bench bench-tuning bench-oof bench-report browser clean

$(VENV)/.installed: requirements-dev.txt pyproject.toml functions/split/requirements.txt functions/gather/requirements.txt
	@test -n "$(PYTHON)" || { echo "python3.12 not found: install it or run make PYTHON=/path/to/python3.12" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

## Run a 5-fold cross-validation of a bundled dataset through the real state machine, offline.
demo: $(VENV)/.installed
	$(BIN)/smx-validator local run doc/examples/linear-learner.json --data resources/datasets/breast_cancer.csv=s3://smx-demo-input/breast_cancer/breast_cancer.csv

## The whole test suite (what CI runs).
test: $(VENV)/.installed browser
	$(BIN)/python -m pytest

## The report's test renders it in a real headless browser: Debian's Chromium and its ChromeDriver.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		echo "installing Debian's chromium and chromium-driver (the report's browser test)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

## The largest search the design supports (1,000 jobs through the Distributed Map, about 3 minutes): kept out of
## `make test` so that the suite stays within 15 minutes.
test-ceiling: $(VENV)/.installed
	SMX_TEST_CEILING=1 $(BIN)/python -m pytest tests/local/test_search.py -k largest

lint: $(VENV)/.installed
	$(BIN)/cfn-lint template.yaml
	$(BIN)/sam validate --lint
	$(BIN)/sam validate --region $(AWS_DEFAULT_REGION)

build: $(VENV)/.installed
	$(BIN)/sam build

## A template with the state machine definition inline, ready for `sam package` + `sam publish` (SAR).
sar-template: build
	$(BIN)/smx-validator sar-template .aws-sam/build/template.yaml --output .aws-sam/build/sar-template.yaml

## Split benchmark: BENCH_LINES lines (default 1000000), k=5; a table, then one line of JSON.
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/split_bench.py

## Search benchmark: growing searches through the offline engine (plan size, largest state, history events,
## seconds per job) and the design's ceiling; a table, then one line of JSON.
bench-tuning: $(VENV)/.installed
	$(BIN)/python benchmarks/tuning_bench.py

## Out-of-fold predictions benchmark: each family with and without them through the offline engine, and the
## gather's out-of-fold step at 100k and 1M lines (time and peak memory); a table, then one line of JSON.
bench-oof: $(VENV)/.installed
	$(BIN)/python benchmarks/oof_bench.py

## Report and MLflow tracking benchmark: the HTML report and the track step's record for searches of BENCH_REPORT_JOBS
## jobs (default 5,100,1000), against writing summary.json and one bare MLflow run per job; a table, then JSON.
bench-report: $(VENV)/.installed
	$(BIN)/python benchmarks/report_bench.py

clean:
	rm -rf $(VENV) .aws-sam build
