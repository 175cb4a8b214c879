#!/usr/bin/env bash
# Installs Debian's Chromium for the gui arena (Playwright's own browser download is not used).
# Idempotent: does nothing when a Chromium binary is already there.
set -euo pipefail
if [ -n "${ARENAS_CHROMIUM:-}" ] && [ -x "$ARENAS_CHROMIUM" ]; then
  echo "chromium: $ARENAS_CHROMIUM"; exit 0
fi
for bin in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$bin" ]; then echo "chromium: $bin ($("$bin" --version 2>/dev/null || true))"; exit 0; fi
done
command -v apt-get >/dev/null 2>&1 || { echo "Chromium is missing and apt-get is not available: install Chromium and set ARENAS_CHROMIUM" >&2; exit 1; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
echo "chromium: $(command -v chromium) ($(chromium --version 2>/dev/null || true))"
