PY ?= python3
export ARENAS_HOME ?= $(HOME)/.cache/arenas

.PHONY: install install-all demo test lint bench mutation

install:
	PYTHON=$(PY) bash scripts/install.sh

install-all:
	PYTHON=$(PY) bash scripts/install.sh --all

## the main job on embedded defaults: every arena's baselines (no GPU, no model download), then
## the published leaderboard site of those runs (runs/site/index.html)
demo: install-all
	rm -rf runs/demo runs/site
	arenas demo --out runs/demo
	arenas leaderboard publish runs/demo --out runs/site

lint:
	$(PY) -m ruff check .

## installs everything the tests need (system packages, Python extras, Node server), then ruff + pytest
test: install-all lint
	$(PY) -m pytest -q

bench:
	for f in benchmarks/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

## mutation testing of the result-critical modules (slow; not part of `make test`)
mutation: install-all
	PYTHON=$(PY) bash scripts/mutation.sh
