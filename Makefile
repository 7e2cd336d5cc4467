# funnelkit — `make help` lists the targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DB := data/demo.duckdb

.DEFAULT_GOAL := help
.PHONY: help install demo report test test-fast lint format lock lab bench bench-scale clean browser

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

# constraints.txt pins every package to the versions the reports were checked with, so a report
# can be reproduced later; `make lock` refreshes it from the current environment.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	$(BIN)/python -c "from funnelkit.batch.runner import ensure_kernel; ensure_kernel()"
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the kit (once)

$(DEMO_DB): $(STAMP) $(wildcard funnelkit/demo.py funnelkit/demo/*.py)
	$(BIN)/funnelkit demo --out $(DEMO_DB)

demo: $(DEMO_DB) ## build the demo database

report: $(DEMO_DB) ## run every notebook for every branch in params/ and print the index page
	$(BIN)/funnelkit batch

browser: ## install headless Chromium and a CJK font for the browser tests (needs root; else they skip loudly)
	@sh scripts/install-browser.sh

test: $(DEMO_DB) browser lint ## lint, then the whole test suite
	$(BIN)/python -m pytest

test-fast: $(DEMO_DB) ## unit tests and docstring examples only (no notebook runs, no browser)
	$(BIN)/python -m pytest -q -m "not e2e and not browser"

lint: $(STAMP) ## ruff: lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## ruff: fix imports and format the code
	$(BIN)/ruff check --fix --select I .
	$(BIN)/ruff format .

lock: $(STAMP) ## pin the current environment's packages in constraints.txt
	@( echo "# Pinned by make lock: the versions the reports were checked with."; \
	   $(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' ) > constraints.txt

lab: $(DEMO_DB) ## JupyterLab on notebooks/ with the kit importable (extra arguments: make lab ARGS="--port 9999")
	FUNNELKIT_HOME=$(CURDIR) $(BIN)/jupyter lab --notebook-dir=notebooks \
		$$( [ "$$(id -u)" = 0 ] && echo --allow-root ) $(ARGS)

bench: $(DEMO_DB) ## the batch side by side with a papermill/nbconvert loop and a careful script (BENCH_REPEAT=3 for medians)
	$(BIN)/python -m benchmarks.run

bench-scale: $(DEMO_DB) ## loading and every notebook at 10 million leads: seconds and kernel peak memory (slow)
	$(BIN)/python -m benchmarks.run --scale-run

clean: ## remove generated outputs and the demo database (keeps .venv)
	rm -rf outputs/*/ outputs/latest $(DEMO_DB) test-results
