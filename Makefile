# The two commands of the README: `make demo` and `make test`. Both create .venv when missing and install.
# `make wheel`: a wheel that carries the shipped configs and the built web app (needs npm).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := runs/demo

.PHONY: setup demo test lint clean js wheel bench-smoke

$(STAMP): pyproject.toml requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	$(BIN)/python -m pip install -q -e ".[serve,openvino,completion,dev,all]"
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	rm -rf $(DEMO)
	$(BIN)/lightship train --config configs/digits.yaml --out $(DEMO)
	$(BIN)/lightship evaluate $(DEMO) --out $(DEMO)/report
	$(BIN)/lightship export $(DEMO) --formats torchscript,onnx,onnx-int8,openvino --out $(DEMO)/bundle
	$(BIN)/python examples/digit_images.py $(DEMO)/images
	@for runtime in onnxruntime openvino torchscript; do \
	  echo "== lightship predict with $$runtime"; \
	  $(BIN)/lightship predict $(DEMO)/bundle $(DEMO)/images --runtime $$runtime --top_k 1 || exit 1; \
	done
	@echo
	@echo "Run folder: $(DEMO)   report: $(DEMO)/report/report.md   bundle: $(DEMO)/bundle/manifest.json"
	@echo "See the model in your browser:  make js && $(BIN)/lightship web $(DEMO)/bundle --out $(DEMO)/site --serve"

# The browser app and the Node runner: npm packages pinned by their lock files, the site built by esbuild.
web/node_modules/.stamp: web/package-lock.json
	npm ci --prefix web --no-audit --no-fund
	@touch $@

node/node_modules/.stamp: node/package-lock.json
	ONNXRUNTIME_NODE_INSTALL=skip npm ci --prefix node --no-audit --no-fund
	@touch $@

web/dist/index.html: web/node_modules/.stamp web/build.mjs $(wildcard web/src/* web/src/*/*)
	npm run build --prefix web

js: web/dist/index.html node/node_modules/.stamp

# Installs Chromium, Node.js and npm where it can (root on Debian/Ubuntu) and builds web/ and node/ when npm is
# there; without them the web, Node and browser tests are skipped with one line saying how to enable them.
test: setup
	@tools/test-tools.sh
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory js; fi
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup  # the docs test on one worker, the rest on the other

# Every benchmark script once, small (about 10 minutes): make bench-smoke DATA=path/to/cifar10-jpg
bench-smoke: setup js
	tools/bench-smoke.sh $(DATA)

wheel: setup js
	$(BIN)/python -m pip wheel --no-deps --no-build-isolation -w dist .

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) runs .pytest_cache web/dist web/node_modules node/node_modules
