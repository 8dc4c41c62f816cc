#!/usr/bin/env bash
# The whole test suite: installs what is missing, type-checks, runs every test, then checks nothing was left behind.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
started=$(date +%s)
echo "== typecheck"
bun run typecheck
echo "== tests"
bun test "$@"
echo "== leftovers"
left=$( { find /sys/fs/cgroup -maxdepth 3 -type d -name 'danaus.*' 2>/dev/null; find /dev/shm -maxdepth 1 -name 'danaus.*' 2>/dev/null; } || true)
if [ -n "$left" ]; then
  echo "tests left these behind:"; echo "$left"; exit 1
fi
echo "== done in $(( $(date +%s) - started ))s"
