# Two commands a newcomer needs: `make demo` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DB := data/demo.duckdb

.PHONY: install test lint pytest demo bench clean browser

install: $(STAMP)

# Rebuilt only when the pins or the package metadata change, so a second `make test` is quick.
$(STAMP): requirements.lock requirements-ray.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-ray.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check harness tests bench
	$(BIN)/ruff format --check harness tests bench
	$(BIN)/mypy

pytest: $(STAMP) browser
	$(BIN)/pytest

# The report's browser test opens report.html in headless Chromium: Debian's package, installed
# when missing (needs root); where it cannot be installed the test is skipped and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || apt-get install -y -q chromium >/dev/null 2>&1 \
	  || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1) \
	  || echo "chromium could not be installed: the report's browser test will be skipped"

test: lint pytest

# Ingests the bundled capture and generates the seeded 2025-10-10 crash tape into a fresh store,
# then replays both incidents end to end: the calm one, then the crash with its cascade.
demo: $(STAMP)
	@mkdir -p data
	@rm -f $(DEMO_DB)
	$(BIN)/harness --db $(DEMO_DB) ingest fixtures/btcusdt_20240808.gz
	$(BIN)/harness --db $(DEMO_DB) synth altcoin-crash-2025-10-10 --seed 7
	$(BIN)/harness --db $(DEMO_DB) data ls
	$(BIN)/harness replay replays/btcusdt-2024-08-08-calm.toml --db $(DEMO_DB) --out runs/demo
	$(BIN)/harness replay replays/altcoin-crash-2025-10-10.toml --db $(DEMO_DB) --out runs/altcoin-crash
	@echo "open in a browser: runs/demo/report.html (calm) and runs/altcoin-crash/report.html (crash)"

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
