#!/usr/bin/env bash
# Debian's chromium for the browser lane (npm run test:browser): playwright-core drives it at
# /usr/bin/chromium. Never `playwright install`, which downloads a browser and fails here.
# Idempotent: does nothing when the browser is there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! apt-get install -y chromium; then
  apt-get update
  apt-get install -y chromium
fi
/usr/bin/chromium --version
