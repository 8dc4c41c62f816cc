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
# The LD_PRELOAD library for unmodified programs (shims/preload), into .danaus/build. Without a C compiler the rest of
# the project still works; `danaus run` then says the library is not built.
bash shims/preload/build.sh || echo "setup: the preload library was not built (see above); danaus run and its tests need it" >&2
