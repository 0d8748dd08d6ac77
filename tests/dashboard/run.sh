#!/usr/bin/env bash
# The dashboard's browser tests (docs/dashboard.md): installs playwright-core
# from the committed package-lock.json when missing (npm ci; offline once the
# npm cache has it), then runs them in headless /usr/bin/chromium against
# OVERSEERD (default: build/overseerd). Screenshots: build/dashboard-artifacts/.
# DASHBOARD_WEB_DIR=web serves the scripts and style sheet from web/ instead
# of the daemon's embedded copy (an edit tested without a rebuild).
set -euo pipefail
cd "$(dirname "$0")"
export OVERSEERD=${OVERSEERD:-$(cd ../.. && pwd)/build/overseerd}
if [ ! -d node_modules/playwright-core ]; then
  npm ci --prefer-offline --no-audit --no-fund --loglevel=error
fi
exec node --test dashboard.test.mjs
