# The two commands of the README: `make demo` and `make test`. Both create .venv when missing and install.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := runs/demo

.PHONY: setup demo test lint clean

$(STAMP): pyproject.toml requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	$(BIN)/python -m pip install -q -e ".[serve,openvino,dev]"
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	rm -rf $(DEMO)
	$(BIN)/lightship train --config configs/digits.yaml --out $(DEMO)
	$(BIN)/lightship evaluate $(DEMO) --out $(DEMO)/report

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) runs .pytest_cache
