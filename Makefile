PY ?= python3
export ARENAS_HOME ?= $(HOME)/.cache/arenas

.PHONY: install install-all demo test lint bench mutation

install:
	PYTHON=$(PY) bash scripts/install.sh

install-all:
	PYTHON=$(PY) bash scripts/install.sh --all

## the main job on the embedded default: SQL arena on SQLite, oracle and random agents, no GPU, no model
demo: install
	rm -rf runs/demo-oracle runs/demo-random
	arenas build-data sql
	arenas run sql --agent oracle -n 100 --split test --concurrency 2 --out runs/demo-oracle
	arenas run sql --agent random -n 100 --split test --concurrency 2 --out runs/demo-random

lint:
	$(PY) -m ruff check .

## installs everything the tests need (system packages, Python extras, Node server), then ruff + pytest
test: install-all lint
	$(PY) -m pytest -q

bench:
	for f in benchmarks/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

## mutation testing of the result-critical modules (slow; not part of `make test`)
mutation: install-all
	rm -rf mutants
	-$(PY) -m mutmut run
	$(PY) scripts/mutation_report.py
