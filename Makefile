# liveredge — the README's two commands are `make demo` and `make test`; both set up on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Keep TensorFlow quiet and single-process-friendly on small machines.
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup demo test test-main test-device wheel-check lint bench reliability clean help zoo zoo-v2 zoo-v1 \
	zoo-hybrid zoo-int8 lock sbom audit wheel

# Hash-pinned locks (uv pip compile --generate-hashes, universal markers, Python 3.11): the workstation set
# (extra dev) and the device set (extras device + test: tflite-runtime 2.14, numpy < 2). `make lock` refreshes
# them, keeping every pin it can (the existing lock is uv's preference); `make lock UPGRADE=--upgrade` moves all.
DEV_LOCK := requirements/dev.lock
DEVICE_LOCK := requirements/device.lock
UV_COMPILE = $(VENV)/bin/uv pip compile --no-config --index-url https://pypi.org/simple pyproject.toml \
	--generate-hashes --universal --python-version 3.11 --custom-compile-command 'make lock' --quiet $(UPGRADE)

help:
	@echo "make demo        - run the end-to-end demo on embedded defaults (sets up on first run)"
	@echo "make test        - run the whole test suite, the device venv's tests and the wheel check"
	@echo "make lint        - ruff (lint + format check) and mypy over the package code"
	@echo "make bench       - run the benchmarks, JSON under bench/results/"
	@echo "make setup       - create $(VENV) from the hash-pinned lock $(DEV_LOCK)"
	@echo "make wheel       - build dist/liveredge-*.whl (ships the signed reference model)"
	@echo "make wheel-check - install the wheel into fresh venvs ([edge] and [device]) and run it from there"
	@echo "make lock        - refresh $(DEV_LOCK) and $(DEVICE_LOCK) (needs PyPI)"
	@echo "make sbom        - CycloneDX JSON of the device install: build/sbom-device.cdx.json"
	@echo "make audit       - pip-audit of both locks against the PyPI advisory database (needs network)"

setup: $(STAMP)

# pip --require-hashes: every package of the lock must match its SHA-256; the project itself goes in editable
# without dependencies (they are all in the lock).
$(STAMP): pyproject.toml $(DEV_LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/liveredge demo

test: lint test-main test-device wheel-check

# PYTEST_ARGS: extra pytest options, e.g. `make test PYTEST_ARGS=--durations=30` to see where the time goes.
# PYTEST_WORKERS: pytest-xdist workers, one test FILE at a time each (--dist loadfile keeps a file's module
# fixtures in one process); 2 suits the 2-core CI (~1.4x faster there: the Flower tests mostly wait), 0 runs serially.
PYTEST_WORKERS ?= 2
test-main: $(STAMP)
	$(PY) -m pytest -q tests -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Device-style venv from $(DEVICE_LOCK): the device extra (tflite-runtime 2.14, numpy < 2) and the test tools,
# NO TensorFlow/ai-edge-litert; runs the device-relevant tests there.
DEVICE_VENV := .venv-device
DEVICE_PY := $(DEVICE_VENV)/bin/python
DEVICE_STAMP := $(DEVICE_VENV)/.installed
DEVICE_TESTS = $(wildcard tests/test_layout.py tests/test_sources*.py tests/test_sinks*.py tests/test_examlog*.py \
	tests/test_device*.py tests/test_interpreter*.py tests/test_decisions*.py tests/test_runtime*.py \
	tests/test_preprocess*.py tests/test_dicom*.py)

$(DEVICE_STAMP): pyproject.toml $(DEVICE_LOCK)
	@test -x $(DEVICE_PY) || $(PYTHON) -m venv $(DEVICE_VENV)
	$(DEVICE_PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(DEVICE_PY) -m pip install --quiet --require-hashes -r $(DEVICE_LOCK)
	$(DEVICE_PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(DEVICE_STAMP)

test-device: $(DEVICE_STAMP)
	LIVEREDGE_DEVICE_VENV=1 $(DEVICE_PY) -m pytest -q -p no:cacheprovider $(DEVICE_TESTS)

# Lint: the rules, line length and mypy settings are in pyproject.toml ([tool.ruff], [tool.mypy]).
LINT_DIRS := edge convert firmware_bridge models cli tests bench docs
# mypy checks the package under its installed names (liveredge.edge, liveredge.convert, ...). The folders map to
# those names only through setuptools' package-dir, which mypy cannot follow (every `import liveredge.x` was an
# unchecked Any), so a tree of links in build/mypy names them; pyproject's [tool.mypy] points there.
MYPY_TREE := build/mypy/liveredge
PACKAGE_DIRS := edge convert firmware_bridge models cli
lint: $(STAMP)
	$(PY) -m ruff check $(LINT_DIRS)
	$(PY) -m ruff format --check $(LINT_DIRS)
	@mkdir -p $(MYPY_TREE) && for d in $(PACKAGE_DIRS); do ln -sfn ../../../$$d $(MYPY_TREE)/$$d; done
	$(PY) -m mypy

# The wheel alone on a device (tests/wheel_check.py): fresh venvs outside the checkout, no TensorFlow; ~1 min
# with pip's cache.
wheel-check: $(STAMP)
	$(PY) tests/wheel_check.py --extra edge --demo
	$(PY) tests/wheel_check.py --extra device

wheel: $(STAMP)
	$(PY) -m pip wheel --quiet --no-deps --no-build-isolation -w dist .
	@ls dist/liveredge-*.whl

lock: $(STAMP)
	@mkdir -p requirements
	$(UV_COMPILE) --extra dev -o $(DEV_LOCK)
	$(UV_COMPILE) --extra device --extra test -o $(DEVICE_LOCK)

# CycloneDX 1.6 JSON of what a device installs (the device venv: the lock's packages + liveredge).
sbom: $(DEVICE_STAMP) $(STAMP)
	@mkdir -p build
	$(VENV)/bin/cyclonedx-py environment --output-reproducible --of JSON -o build/sbom-device.cdx.json $(DEVICE_PY)
	$(PY) -c "import json, sys; from cyclonedx.validation.json import JsonStrictValidator as V; \
		from cyclonedx.schema import SchemaVersion as S; t = open('build/sbom-device.cdx.json').read(); \
		e = V(S.V1_6).validate_str(t); d = json.loads(t); print('build/sbom-device.cdx.json: CycloneDX', \
		d['specVersion'], len(d['components']), 'components,', 'schema-valid' if e is None else e); sys.exit(e is not None)"

# Known vulnerabilities in the locked versions (pip-audit, PyPI's advisory data through its JSON API). --strict:
# a package that cannot be looked up FAILS the audit (no network, or a proxy that serves only /simple) instead of
# being skipped with "No known vulnerabilities found". AUDIT_SERVICE=osv asks api.osv.dev instead.
AUDIT_SERVICE ?= pypi
audit: $(STAMP)
	$(VENV)/bin/pip-audit --strict --progress-spinner off --vulnerability-service $(AUDIT_SERVICE) --disable-pip \
		--require-hashes -r $(DEVICE_LOCK)
	$(VENV)/bin/pip-audit --strict --progress-spinner off --vulnerability-service $(AUDIT_SERVICE) --disable-pip \
		--require-hashes -r $(DEV_LOCK)

bench: $(STAMP)
	@mkdir -p bench/results
	$(PY) bench/run_all.py

# The shipped reference CNN v3 (simulator v2, not-a-liver class, ~30k training frames from 600 profiles): data,
# train, calibrate, int8, benchmark into out/zoo_v3 (~10 min of training on a 16-core GPU machine with
# KERAS_BACKEND=jax; many hours on 2 cores); copy into models/zoo/ by hand after reading the numbers.
# zoo-hybrid: the same recipe for the CNN-Transformer hybrid, sized for 2 cores (10,000 frames, 18 epochs: ~40 min of
# training here) into out/zoo_v3h. zoo-v2: the previous, smaller CNN recipe (~45 min on 2 cores). zoo-v1: the oldest.
zoo: $(STAMP)
	LIVEREDGE=$(VENV)/bin/liveredge models/recipe_v3.sh

zoo-hybrid: $(STAMP)
	ARCH=hybrid VERSION=2 PATIENTS=2000 NEGATIVES=500 EPOCHS=18 TRAIN_MINUTES=38 \
		LIVEREDGE=$(VENV)/bin/liveredge models/recipe_v3.sh out/zoo_v3h

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

# Re-convert models/zoo/*.keras to signed, gated int8 TFLite (convert/zoo_int8.sh: needs ZOO_VERSION; SIMULATED data).
zoo-int8: $(STAMP)
	convert/zoo_int8.sh
