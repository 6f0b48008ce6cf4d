# The README's two commands. Each sets itself up from scratch (a .venv here), so a fresh clone works.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install lint bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	# torch first and pinned: anything unpinned pulls gigabytes of CUDA wheels.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Ingest the bundled synthetic person, show what the coach answers, then serve the UI + API.
demo: $(STAMP)
	$(BIN)/healthcoach demo

## Install everything, check the import layers, and run the whole test suite.
test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -m "not llamacpp"
	@# llama.cpp's OpenMP threads spin against torch's unless told to wait passively (set before start).
	OMP_WAIT_POLICY=PASSIVE $(BIN)/python -m pytest -m llamacpp

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/healthcoach eval bench

clean:
	rm -rf $(VENV) .pytest_cache eval/results
