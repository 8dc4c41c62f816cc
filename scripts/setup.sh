#!/usr/bin/env bash
# Installs the pinned Bun (from the npm registry) and the locked dependencies. Idempotent; prints nothing when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
want=$(node -p 'require("./package.json").devDependencies.bun')
have=$(node_modules/.bin/bun --version 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  if [ "$(.tools/node_modules/.bin/bun --version 2>/dev/null || true)" != "$want" ]; then
    echo "setup: installing bun@$want from the npm registry into .tools/" >&2
    npm install --prefix .tools --no-save --no-package-lock --no-audit --no-fund "bun@$want" >/dev/null 2>&1 \
      || { echo "setup: npm install bun@$want failed (is the npm registry reachable?)" >&2; exit 1; }
  fi
  .tools/node_modules/.bin/bun install --frozen-lockfile
fi
# The LD_PRELOAD library for unmodified programs (shims/preload), into .danaus/build.
bash shims/preload/build.sh
