# The two set-up commands of the project (see README):
#   make demo   install into .venv and run the example network (weights/encdec.yaml) on its bundled image
#   make test   install what the tests need (ap_types headers included) and run the suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
HLS4ML := hls4ml==1.3.0

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
	$(BIN)/python -m pytest -q

test-fast: install-test
	$(BIN)/python -m pytest -q -m "not toolchain"

bench: install-test
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build .pytest_cache *.egg-info
