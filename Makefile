# liveredge — the README's two commands are `make demo` and `make test`; both set up on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Keep TensorFlow quiet and single-process-friendly on small machines.
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup demo test test-main bench reliability clean help

help:
	@echo "make demo   - run the end-to-end demo on embedded defaults (sets up on first run)"
	@echo "make test   - run the whole test suite (sets up on first run)"
	@echo "make bench  - run the benchmarks, JSON under bench/results/"
	@echo "make setup  - create $(VENV) from pyproject.toml"

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/liveredge demo

test: test-main

test-main: $(STAMP)
	$(PY) -m pytest -q tests

bench: $(STAMP)
	@mkdir -p bench/results
	$(PY) bench/run_all.py

clean:
	rm -rf build dist *.egg-info .pytest_cache
