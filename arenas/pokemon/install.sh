#!/usr/bin/env bash
# Installs the pinned Pokemon Showdown server (server/package-lock.json) for the pokemon arena.
# Idempotent: does nothing when the pinned version is already installed.
set -euo pipefail
cd "$(dirname "$0")/server"
command -v node >/dev/null 2>&1 || { echo "Node.js is missing: apt-get install nodejs npm" >&2; exit 1; }
want=$(node -p "require('./package-lock.json').packages['node_modules/pokemon-showdown'].version")
have=$(node -p "try { require('./node_modules/pokemon-showdown/package.json').version } catch (e) { '' }")
if [ "$want" != "$have" ]; then
  npm ci --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error
fi
test -d node_modules/pokemon-showdown/dist || { echo "pokemon-showdown $want has no prebuilt dist/" >&2; exit 1; }
echo "pokemon-showdown $want installed in $(pwd)/node_modules"
