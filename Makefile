# civic-sim: make run (main job), make test (lint + tests), make bench, make app.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM_STAMP := $(VENV)/.chromium

.PHONY: setup run test lint format bench app browser clean

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PY) not found)"; exit 2; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

# Debian's Chromium for the real-browser tests of the workshop page (installed once).
$(CHROMIUM_STAMP):
	@if [ -x /usr/bin/chromium ]; then echo "chromium present"; \
	elif command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "install Chromium at /usr/bin/chromium for the browser tests"; exit 2; fi
	mkdir -p $(VENV) && touch $(CHROMIUM_STAMP)

browser: $(CHROMIUM_STAMP)

run: $(STAMP)
	$(BIN)/civic-sim sweep experiments/specs/strategy_comparison.toml --out results/strategy_comparison --rerun-changed
	$(BIN)/civic-sim report results/strategy_comparison

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(STAMP) $(CHROMIUM_STAMP) lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks

app: $(STAMP)
	$(BIN)/solara run app.py --host 127.0.0.1 --production

clean:
	rm -rf $(VENV) results test-output .pytest_cache .ruff_cache
