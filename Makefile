# The README's two commands are `make run` and `make test`; both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run demo test lint typecheck pytest bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: setup            ## run the bot on its defaults (SQLite in storage/, console alerts)
	$(BIN)/nkru run

demo: setup           ## offline demo on the bundled sample feeds
	$(BIN)/nkru demo

test: lint typecheck pytest   ## everything CI checks

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest -q

bench: setup          ## benchmarks print figures; they are not tests
	$(BIN)/python benchmarks/pipeline.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
