# gridsvc: `make demo` and `make test` are the two commands; everything else is their parts.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
BACKUP_DIR ?= $(HOME)/gridsvc-backups
KEEP ?= 14

.PHONY: setup system python demo test bench load lint fuzz clean db-up db-down backup

setup: system python

system:
	@bash scripts/install-system-deps.sh

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

python: $(STAMP)

demo: setup
	$(BIN)/gridsvc db up
	$(BIN)/gridsvc demo

test: setup
	$(BIN)/gridsvc db up
	$(BIN)/pytest -q $(PYTEST_ARGS)

bench: setup
	@GRIDSVC_BENCH_TOOLS=1 bash scripts/install-system-deps.sh
	$(BIN)/gridsvc db up
	$(BIN)/python -m bench.run

load: setup
	$(BIN)/gridsvc db up
	@$(BIN)/python -c 'import locust' 2>/dev/null || $(BIN)/python -m pip install -q -e '.[load]'
	$(BIN)/python -m bench.load $(LOAD_ARGS)

fuzz: setup
	$(BIN)/gridsvc db up
	GRIDSVC_FUZZ_EXAMPLES=$${GRIDSVC_FUZZ_EXAMPLES:-200} GRIDSVC_FUZZ_SECONDS=$${GRIDSVC_FUZZ_SECONDS:-600} \
		$(BIN)/pytest -q -s tests/api/test_fuzz.py

lint: python
	$(BIN)/ruff check gridsvc tests bench

db-up: python
	$(BIN)/gridsvc db up

db-down: python
	$(BIN)/gridsvc db down

backup: python
	mkdir -p $(BACKUP_DIR)
	$(BIN)/gridsvc db dump $(BACKUP_DIR) --keep $(KEEP)

clean:
	-$(BIN)/gridsvc db down
	rm -rf .gridsvc demo-map.html test-artifacts .pytest_cache
