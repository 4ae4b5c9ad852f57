# The README's two commands are `make run` and `make test`; both set everything up first.
# Set-up installs exactly the versions in requirements/dev.lock (hash-checked), so a fresh
# machine gets what CI tested; `make lock` rewrites the locks from pyproject.toml.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCKS  := requirements/run.lock requirements/dev.lock requirements/build.lock
# The interpreter the locks are resolved for (the floor of requires-python); --universal
# keeps the markers for other platforms and Python versions.
COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
          --annotation-style line

.PHONY: setup run demo test lint typecheck pytest bench bench-cli lock test-lowest test-latest \
        clean

setup: $(STAMP)

# A new lock means a new venv: nothing the old lock installed lingers.
$(STAMP): requirements/dev.lock pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	touch $(STAMP)

run: setup            ## run the bot on its defaults (SQLite in storage/, console alerts)
	$(BIN)/nkru run

demo: setup           ## offline demo on the bundled sample feeds
	$(BIN)/nkru demo

test: lint typecheck pytest   ## everything CI checks

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest -q

bench: setup          ## benchmarks print figures; they are not tests
	$(BIN)/python benchmarks/pipeline.py

bench-cli: setup      ## start-up time of the nkru command
	$(BIN)/python benchmarks/cli_startup.py

# Not through `setup`: the lock may be missing or stale; any recent uv writes the same locks.
lock:                 ## after editing dependencies in pyproject.toml
	test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet uv; }
	$(COMPILE) pyproject.toml -o requirements/run.lock
	$(COMPILE) requirements/build.in -o requirements/build.lock
	$(COMPILE) pyproject.toml --extra dev requirements/build.in -o requirements/dev.lock

# The ranges in pyproject.toml are promises: the suite must pass at both ends of them.
# Each builds a venv of its own from PyPI (not from the locks) and runs lint, mypy and pytest.
test-lowest: setup    ## every direct dependency at the lowest version pyproject.toml allows
	$(MAKE) --no-print-directory _check-range RANGE_VENV=.venv-lowest RESOLUTION=lowest-direct

test-latest: setup    ## every dependency at the newest version pyproject.toml allows
	$(MAKE) --no-print-directory _check-range RANGE_VENV=.venv-latest RESOLUTION=highest

_check-range:
	rm -rf $(RANGE_VENV)
	$(BIN)/uv venv --quiet --python $(PYTHON) $(RANGE_VENV)
	$(BIN)/uv pip install --quiet --python $(RANGE_VENV)/bin/python \
	    --resolution $(RESOLUTION) -e ".[dev]"
	$(BIN)/uv pip list --python $(RANGE_VENV)/bin/python > $(RANGE_VENV)/versions.txt
	$(RANGE_VENV)/bin/ruff check .
	$(RANGE_VENV)/bin/ruff format --check .
	$(RANGE_VENV)/bin/mypy
	$(RANGE_VENV)/bin/pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) .venv-lowest .venv-latest .mypy_cache .ruff_cache .pytest_cache
