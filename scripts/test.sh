#!/usr/bin/env bash
# The whole test suite: installs what is missing (Bun, and as root the Debian packages: Ceph, fuse3, fio,
# unionfs-fuse, lighttpd, gcc, python3, sqlite3, rocksdb-tools), brings the project's single-node Ceph cluster up (and down again if it started it), type-checks,
# runs every test, then checks nothing was left behind.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
started=$(date +%s)

echo "== packages and Ceph cluster"
stop_cluster=no
if [ "$(id -u)" = 0 ]; then
  bun scripts/ceph/main.ts packages
  # The preload library, in case set-up ran before the packages brought the C compiler (prints nothing when built).
  bash shims/preload/build.sh
fi
if bun scripts/ceph/main.ts status >/dev/null 2>&1; then
  echo "using the Ceph cluster already running in .danaus/ceph"
  export DANAUS_CEPH_CONF="$PWD/.danaus/ceph/ceph.conf"
elif bun scripts/ceph/main.ts up; then
  stop_cluster=yes
  export DANAUS_CEPH_CONF="$PWD/.danaus/ceph/ceph.conf"
else
  echo "no Ceph cluster (see the message above): the tests that need one skip and say so" >&2
  if [ "${CI:-}" = true ]; then echo "CI must run the Ceph tests" >&2; exit 1; fi
fi
cleanup() { if [ "$stop_cluster" = yes ]; then bun scripts/ceph/main.ts down || true; fi; }
trap cleanup EXIT

echo "== typecheck"
bun run typecheck
echo "== tests"
# A hang guard per test, not a time limit on anything measured: a busy 2-core machine stretches every test.
bun test --timeout 60000 "$@"
echo "== leftovers"
left=$( { find /sys/fs/cgroup -maxdepth 3 -type d -name 'danaus.*' 2>/dev/null; find /dev/shm -maxdepth 1 -name 'danaus.*' 2>/dev/null; grep -E ' fuse(\.|blk)? |fuse\.ceph-fuse|fuse\.unionfs|fuse\.danaus' /proc/mounts | grep -E 'danaus|ceph-fuse|unionfs' ; } || true)
if [ -n "$left" ]; then
  echo "tests left these behind:"; echo "$left"; exit 1
fi
echo "== done in $(( $(date +%s) - started ))s"
