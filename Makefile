# Two commands do all set-up on a fresh clone with only python3:
#   make demo   generate and export an MP4 against the embedded emulator
#   make test   run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint typecheck check bench bench-load docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The demo needs only the runtime extras, so a fresh clone gets to its video sooner.
DEMO_STAMP := $(VENV)/.installed-demo

$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[emulator,cli]"
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/nemo --emulator generate "a cinematic sunset over the ocean, 1080p" -o video.mp4 --overwrite

# The whole suite, in parallel (pytest-xdist): a tier that shares one server (the ADK
# server, the Temporal dev server, the docs' emulator) stays on one worker (loadgroup).
# `make test PYTEST_WORKERS=0` runs it in this process, serially.
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL = -n $(PYTEST_WORKERS) --dist loadgroup

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL)

# The inner loop: everything but the subprocess and end-to-end tests marked `slow`.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL) -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check nemo_sdk
	$(BIN)/lint-imports --no-logo  # the layer contracts in .importlinter

typecheck: $(STAMP)
	$(BIN)/mypy nemo_sdk

check: test lint typecheck

# The benchmarks compare against peers (openai-python, httpx, curl) in the same run.
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/overhead.py
	$(BIN)/python benchmarks/sse_decode.py
	$(BIN)/python benchmarks/transfer.py
	$(BIN)/python benchmarks/render.py

# 200 concurrent generate-and-export flows against an emulator in another process (minutes).
bench-load: $(BENCH_STAMP)
	$(BIN)/python benchmarks/load.py --flows 200

# The docs site (mkdocs.yml): every warning is an error; builds offline.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
