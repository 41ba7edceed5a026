# Two commands do all set-up on a fresh clone with only python3:
#   make demo   generate and export an MP4 against the embedded emulator
#   make test   run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck check bench docs clean

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

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check nemo_sdk

typecheck: $(STAMP)
	$(BIN)/mypy nemo_sdk

check: test lint typecheck

bench: $(STAMP)
	$(BIN)/python benchmarks/overhead.py

# The docs site (mkdocs.yml): every warning is an error; builds offline.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
