# liveredge — the README's two commands are `make demo` and `make test`; both set up on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Keep TensorFlow quiet and single-process-friendly on small machines.
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup demo test test-main test-device lint bench reliability clean help zoo zoo-v2 zoo-v1 zoo-int8

help:
	@echo "make demo   - run the end-to-end demo on embedded defaults (sets up on first run)"
	@echo "make test   - run the whole test suite (sets up on first run)"
	@echo "make lint   - ruff (lint) over the code, tests and benches; mypy over the package code"
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

test: test-main test-device

test-main: $(STAMP)
	$(PY) -m pytest -q tests

# Device-style venv: the edge extra with tflite-runtime 2.14 (numpy < 2) and NO TensorFlow/ai-edge-litert;
# runs the device-relevant tests there (tests/device_requirements.py derives the list from pyproject.toml).
DEVICE_VENV := .venv-device
DEVICE_PY := $(DEVICE_VENV)/bin/python
DEVICE_STAMP := $(DEVICE_VENV)/.installed
DEVICE_TESTS = $(wildcard tests/test_layout.py tests/test_sources*.py tests/test_sinks*.py tests/test_examlog*.py \
	tests/test_device*.py tests/test_interpreter*.py tests/test_decisions*.py tests/test_runtime*.py \
	tests/test_preprocess*.py tests/test_dicom*.py)

$(DEVICE_STAMP): pyproject.toml tests/device_requirements.py
	@test -x $(DEVICE_PY) || $(PYTHON) -m venv $(DEVICE_VENV)
	$(DEVICE_PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(DEVICE_PY) tests/device_requirements.py > $(DEVICE_VENV)/requirements.txt
	$(DEVICE_PY) -m pip install --quiet -r $(DEVICE_VENV)/requirements.txt
	$(DEVICE_PY) -m pip install --quiet --no-deps -e .
	@touch $(DEVICE_STAMP)

test-device: $(DEVICE_STAMP)
	LIVEREDGE_DEVICE_VENV=1 $(DEVICE_PY) -m pytest -q -p no:cacheprovider $(DEVICE_TESTS)

# Lint: the rules, line length and mypy settings are in pyproject.toml ([tool.ruff], [tool.mypy]).
lint: $(STAMP)
	$(PY) -m ruff check edge convert firmware_bridge models cli tests bench docs
	$(PY) -m mypy

bench: $(STAMP)
	@mkdir -p bench/results
	$(PY) bench/run_all.py

# The shipped reference CNN v3 (simulator v2, not-a-liver class, ~30k training frames from 600 profiles): data,
# train, calibrate, int8, benchmark into out/zoo_v3 (~10 min of training on a 16-core GPU machine with
# KERAS_BACKEND=jax; many hours on 2 cores); copy into models/zoo/ by hand after reading the numbers.
# zoo-v2: the previous, smaller recipe (~45 min on 2 cores). zoo-v1: the oldest recipe (the hybrid).
zoo: $(STAMP)
	LIVEREDGE=$(VENV)/bin/liveredge models/recipe_v3.sh

zoo-v2: $(STAMP)
	LIVEREDGE=$(VENV)/bin/liveredge models/recipe_v2.sh

zoo-v1: $(STAMP)
	LIVEREDGE=$(VENV)/bin/liveredge models/recipe.sh

# Reliability suite (outside make test/bench): bad-input corpus, fault injection, 10-minute 240 fps soak (~13 min).
reliability: $(STAMP)
	@mkdir -p bench/results
	$(PY) bench/reliability/run.py

clean:
	rm -rf build dist *.egg-info .pytest_cache

# Convert models/zoo/*.keras to signed, gated int8 TFLite (see convert/zoo_int8.sh; SIMULATED data).
zoo-int8: $(STAMP)
	convert/zoo_int8.sh
