# civic-sim: make run (main job), make test (lint + tests), make bench, make app.
#
# Python: the newest of 3.13, 3.12 and 3.11 that really runs here (tools/find_python.sh),
# or PY=/path/to/python. Packages: exactly the versions requirements.lock pins for that
# Python (make lock refreshes it). Each target installs what it needs: make run the core,
# make app the page (extra "app"), make test and make setup everything (extra "dev").
# VENV=... keeps a second environment apart (.ci/run uses one for its second Python).
ifeq ($(origin PY),undefined)
PY := $(shell sh tools/find_python.sh)
endif
VENV ?= .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
# uv resolves the lock file (make lock); pinned so a refresh is reproducible too
UV_VERSION := 0.13.9
CHROMIUM_STAMP := $(VENV)/.chromium

.PHONY: setup calibrate run test test-fast lint format bench app browser lock versions clean

# The virtual environment, made once with the chosen Python.
$(VENV)/pyvenv.cfg:
	@test -n "$(PY)" || { echo "make: Python 3.11, 3.12 or 3.13 is needed (none runs here; set PY=/path/to/python)"; exit 2; }
	@echo "make: creating $(VENV) with $(PY) ($$($(PY) -V 2>&1))"
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# civic-sim and one set of extras, at the lock file's versions (-c: only what the set needs).
$(VENV)/.installed-core: EXTRAS :=
$(VENV)/.installed-app: EXTRAS := [app]
$(VENV)/.installed-dev: EXTRAS := [dev]
$(VENV)/.installed-%: pyproject.toml $(LOCK) | $(VENV)/pyvenv.cfg
	@echo "make: installing civic-sim$(EXTRAS) into $(VENV) ($$($(BIN)/python -V)) from $(LOCK)"
	$(BIN)/pip install --quiet -c $(LOCK) -e ".$(EXTRAS)"
	@touch $@
	@if [ "$*" = dev ]; then touch $(VENV)/.installed-app $(VENV)/.installed-core; fi
	@if [ "$*" = app ]; then touch $(VENV)/.installed-core; fi
	@$(MAKE) --no-print-directory versions VENV=$(VENV)

setup: $(VENV)/.installed-dev

# Which Python and Mesa the environment runs (printed after every install and test run),
# and a note if the venv was made with another Python than make would choose now.
versions:
	@$(BIN)/python -c "import sys; from importlib.metadata import version as v; \
	print(f'make: {sys.argv[1]} runs Python {sys.version.split()[0]} ({sys.executable}), ' \
	f'Mesa {v(\"mesa\")}, numpy {v(\"numpy\")}, numba {v(\"numba\")}, pandas {v(\"pandas\")}')" $(VENV)
	@have=$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	want=$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	if [ -n "$$want" ] && [ "$$have" != "$$want" ]; then \
		echo "make: note: $(VENV) has Python $$have, but $(PY) is $$want; 'make clean' (or VENV=...) to use it"; fi

# Refresh the lock file: the newest versions pyproject.toml allows, for every supported
# Python (a "universal" resolution: one file, with markers where versions differ).
# `make lock UPGRADE=` only adds what pyproject.toml newly asks for and keeps every other
# pin (so a new extra does not move numpy or Mesa under a bit-for-bit comparison).
UPGRADE ?= --upgrade
lock: | $(VENV)/pyvenv.cfg
	$(BIN)/pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --all-extras \
		$(UPGRADE) --custom-compile-command "make lock" --quiet -o $(LOCK)
	@echo "make: $(LOCK) refreshed; commit it (make setup installs from it)"

# Debian's Chromium for the real-browser tests of the workshop page (installed once).
$(CHROMIUM_STAMP): | $(VENV)/pyvenv.cfg
	@if [ -x /usr/bin/chromium ]; then echo "chromium present"; \
	elif command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "install Chromium at /usr/bin/chromium for the browser tests"; exit 2; fi
	touch $(CHROMIUM_STAMP)

browser: $(CHROMIUM_STAMP)

# The shipped calibration: history matching to experiments/ensembles/calibrated.parquet (the
# plausible worlds `make run` compares the strategies in) and its diagnostics in
# results/calibration/. Rerun it after a change to model/ or agents/ (the ensemble is tied
# to the model's fingerprint; make run refuses a stale one). About 3.5 minutes on 2 cores.
# ABC-SMC inside the plausible region: civic-sim calibrate experiments/specs/calibration_abc.toml
calibrate: $(VENV)/.installed-dev
	$(BIN)/civic-sim calibrate experiments/specs/calibration.toml

# The main experiment and its report. OUT= puts it in another folder (`make run
# OUT=results/my_rule` after editing a rule, then `civic-sim report --compare
# results/strategy_comparison results/my_rule`). Runs made by an older version of the
# model are run again; their files are kept in $(OUT)/superseded/, never overwritten. After
# make calibrate regenerated the ensemble, the runs over the old worlds (and their report)
# move whole to $(OUT)/superseded/ensemble-SHA/ and the new worlds run.
OUT ?= results/strategy_comparison
run: $(VENV)/.installed-core
	$(BIN)/civic-sim sweep experiments/specs/strategy_comparison.toml --out $(OUT) --rerun-changed
	$(BIN)/civic-sim report $(OUT)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(VENV)/.installed-dev $(CHROMIUM_STAMP) lint
	@$(MAKE) --no-print-directory versions VENV=$(VENV)
	$(BIN)/python -m pytest -q

# Everything but the real-browser and the slow tests (a quick check; a second Python in CI).
test-fast: $(VENV)/.installed-dev
	@$(MAKE) --no-print-directory versions VENV=$(VENV)
	$(BIN)/python -m pytest -q -m "not browser and not slow"

bench: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks

app: $(VENV)/.installed-app
	$(BIN)/solara run app.py --host 127.0.0.1 --production

clean:
	rm -rf $(VENV) results test-output .pytest_cache .ruff_cache
