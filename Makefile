# The two commands: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
BIN = $(VENV)/bin

.PHONY: run test lint venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

run: venv
	PORT=$(PORT) VENV=$(VENV) bash scripts/run.sh

test: venv
	VENV=$(VENV) bash scripts/test.sh

lint: venv
	$(BIN)/ruff check metabiz tests $(wildcard benchmarks)
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo

clean:
	rm -rf $(VENV) instance build *.egg-info
