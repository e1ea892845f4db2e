# The two set-up commands of the project (see README):
#   make demo   install into .venv and run the example network (weights/encdec.yaml) on its bundled image
#   make test   install what the tests need (ap_types headers included) and run the suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
HLS4ML := hls4ml==1.3.0
# Test workers (pytest-xdist): one per core, at most 4; 0 runs the suite in this process.
JOBS   ?= $(shell $(PYTHON) -c "import os; n = min(4, os.cpu_count() or 1); print(n if n > 1 else 0)")
PYTEST := $(BIN)/python -m pytest -q -n $(JOBS) --dist loadfile

.PHONY: demo test test-fast bench install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

install: $(BIN)/python
	$(PIP) install -q -e .

# hls4ml ships the real Xilinx ap_types headers; only the headers are used, so no deps.
install-test: $(BIN)/python
	$(PIP) install -q -e '.[test,bench]'
	$(PIP) install -q --no-deps $(HLS4ML)

demo: install
	$(BIN)/hls-sim run weights/encdec.yaml

test: install-test
	$(PYTEST)

test-fast: install-test
	$(PYTEST) -m "not toolchain"

bench: install-test
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build .pytest_cache *.egg-info
