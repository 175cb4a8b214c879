#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine (idempotent; fast when done).
#   scripts/install.sh          base + sql + dev extras (what `make demo` needs)
#   scripts/install.sh --all    every extra, system packages and the Showdown server (`make test`)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

if [ "${1:-}" = "--all" ]; then
  # Debian packages the arenas' manifests ask for (arena.toml `apt`), installed when missing
  need=()
  while read -r pkg; do
    [ -n "$pkg" ] || continue
    case "$pkg" in
      postgresql) command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=("$pkg") ;;
      # a command of the same name counts (e.g. npm bundled with a nodejs from another source)
      *) command -v "$pkg" >/dev/null 2>&1 || dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null \
           | grep -q "install ok installed" || need+=("$pkg") ;;
    esac
  done < <($PY scripts/arena_requirements.py apt | sort -u)
  if [ ${#need[@]} -gt 0 ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
  fi
  # CPU build of torch first, so no extra pulls a CUDA build
  $PY -c "import torch" 2>/dev/null || $PY -m pip install -q torch==2.13.0
  $PY -m pip install -q -e ".[all,dev]"
  # the arenas' own install steps (arena.toml `install`), e.g. a pinned Node server
  while read -r script; do
    [ -n "$script" ] && bash "$script"
  done < <($PY scripts/arena_requirements.py install)
else
  $PY -m pip install -q -e ".[sql,dev]"
fi
