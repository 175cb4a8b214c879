#!/usr/bin/env bash
# `make mutation`: mutmut on a staged copy of the checkout in which agents/, verifiers/ and
# leaderboards/ sit under arenas/ as they do once installed. In place, mutmut would mutate
# `agents.grpo.losses` while the tests import `arenas.agents.grpo.losses` from the editable install,
# so every mutant of those folders would survive untested. Writes benchmarks/mutation_survivors.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
root=$(pwd)
stage=${MUTATION_STAGE:-build/mutation}
rm -rf "$stage"
mkdir -p "$stage"
tar -c --exclude=./.git --exclude=node_modules --exclude=mutants --exclude=./runs --exclude=./build \
  --exclude="./$stage" . | tar -x -C "$stage"
cd "$stage"
for d in agents verifiers leaderboards; do mv "$d" "arenas/$d"; done
# the folders now live where their package names say: drop the package-dir mapping
$PY - <<'PYEOF'
import re
from pathlib import Path
p = Path("pyproject.toml")
p.write_text(re.sub(r'\n"arenas\.(agents|verifiers|leaderboards)" = "\w+"', "", p.read_text()))
PYEOF
# forked test workers deadlock in torch's thread pool unless it is single-threaded
OMP_NUM_THREADS=1 $PY -m mutmut run --max-children "${MUTATION_JOBS:-2}" || true
$PY scripts/mutation_report.py
cp benchmarks/mutation_survivors.txt "$root/benchmarks/mutation_survivors.txt"
