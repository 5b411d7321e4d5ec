# Two commands on a fresh machine: `make run` and `make test`. Only Python 3.11+ and make needed.
# The first Python 3.11+ that actually runs (a pyenv shim may exist for a version not selected).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && command -v $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Three pytest processes, whole files to each (a module's shared stack starts once). On 2 cores
# two kept them busy only ~62% of a run (the rest waiting on outages, timeouts and real
# processes starting); a third fills much of that: 9.7-10.4 min against 11.5-13.6 at two, same
# machine. Files go out in collection order, longest first (tests/conftest.py), not xdist's
# most-tests-first.
PYTEST_ARGS ?= -n 3 --dist loadfile --no-loadscope-reorder

.PHONY: install bytecode run test soak lint format lock bench clean

$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "Python 3.11+ is needed (none found on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# setuptools says, in a 10-line box on every install, that an editable install of several
	@# top-level packages finds them through an import hook: true, and nothing to act on.
	PYTHONWARNINGS="ignore:Editable installation" \
		$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The project's own modules as bytecode, for every process the targets below start to read.
# With PYTHONDONTWRITEBYTECODE set (as in python:*-slim images and some shells) no process
# writes a cache, so each api, worker and test process compiled what it imports from this
# tree again: ~130 modules, ~0.2 CPU-s of an api's ~1.1 s start. Python still reads caches
# with it set, checking each against its source's mtime; this rewrites the stale ones only.
bytecode: install
	$(BIN)/python -m compileall -q api jobcast realtime workers tests bench examples celeryconfig.py

run: install bytecode
	$(BIN)/jobcast up $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint bytecode
	$(BIN)/pytest $(PYTEST_ARGS)

# The short soak with 20 faults (`make test` runs it with each fault kind once); the long one
# is `python bench/soak.py --faults 100`.
soak: install bytecode
	SOAK_FAULTS=20 $(BIN)/pytest tests/e2e/test_soak.py -s

# Re-pin requirements.lock from what is installed now (after changing pyproject.toml).
lock: install
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^jobcast' > requirements.lock

# Every benchmark at sizes that finish in about 10 minutes on 2 cores, then one table of issue
# 15's goals (figure, Jobcast, same-run reference, ratio, goal, met?). Run it on a quiet machine.
bench: install bytecode
	$(BIN)/python bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
