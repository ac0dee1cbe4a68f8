# The two commands: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
BIN = $(VENV)/bin

.PHONY: run test lint venv clean

venv: $(VENV)/.installed

# pip's own chatter goes to .venv/install.log; it is shown only when the install fails
$(VENV)/.installed: setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing metabiz and its dependencies into $(VENV) (log: $(VENV)/install.log)"
	@{ $(BIN)/pip install -q --upgrade pip && $(BIN)/pip install -q -e '.[dev]'; } \
		>$(VENV)/install.log 2>&1 || { tail -n 30 $(VENV)/install.log; exit 1; }
	@touch $@

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
