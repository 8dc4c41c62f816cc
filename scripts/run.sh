#!/usr/bin/env bash
# The main job: installs what is missing, then runs the supervisor in the foreground (demo host config unless --config).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node_modules/.bin/bun run supervisor "$@"
