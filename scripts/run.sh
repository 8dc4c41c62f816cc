#!/usr/bin/env bash
# The main job: installs what is missing, then runs the supervisor in the foreground (demo host config unless --config).
# With the demo config, it first imports the demo image (config/demo/image) for alpha's union root mount, once.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ $# -eq 0 ] && [ ! -e .danaus/demo/backends/alpha/images/base/manifest.json ]; then
  node_modules/.bin/bun run danaus image import alpha base config/demo/image --config config/demo/host.toml
fi
exec node_modules/.bin/bun run supervisor "$@"
