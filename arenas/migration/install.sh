#!/usr/bin/env bash
# Builds the migration arena's venvs (one per library version, with uv from the `migration`
# extra, hash-pinned) and its validated tasks into $ARENAS_HOME/migration. Idempotent: cached
# builds are reused.
set -euo pipefail
"${PYTHON:-python3}" -c "from arenas.migration.cli import build; build()"
