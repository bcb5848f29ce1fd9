# Two commands work on a fresh clone: `make demo` and `make test`. Each creates .venv first.
# PyTorch is pinned to the CPU build (2.13.0) and installed before the project, so nothing pulls
# a multi-GB CUDA build; the rest comes from PyPI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

.PHONY: demo test test-all lint bench clean

$(BIN)/emergelab: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[dev,hf]"
	touch $(BIN)/emergelab

demo: $(BIN)/emergelab
	$(BIN)/emergelab demo --out runs/demo

test: $(BIN)/emergelab
	$(BIN)/python -c "import ray" 2>/dev/null || $(BIN)/pip install --quiet -e ".[ray]"  # tests/test_ray.py; optional for users
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/pytest -q

test-all: $(BIN)/emergelab
	$(BIN)/pytest -q -m "slow or not slow"

lint: $(BIN)/emergelab
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) runs build *.egg-info
