#!/usr/bin/env bash
# Builds the preload library with the system's C compiler (Debian's cc): .danaus/build/libdanaus-preload.so and its
# AddressSanitizer twin libdanaus-preload-asan.so (used by tests). Rebuilds only when a source or the generated wire
# header is newer than the library; prints nothing when up to date. Usage: shims/preload/build.sh [OUT_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../.danaus/build}"
mkdir -p "$out"
# Every tenant's uid loads the library: its directory and the default one's parent (.danaus, which another script may
# have made 0700 first; its private parts, such as the Ceph cluster's directory, keep their own modes) stay searchable.
chmod a+rx "$out"
[ -z "${1:-}" ] && chmod a+rx "$out/.."
sources=("$here"/*.c)
inputs=("${sources[@]}" "$here/preload.h" "$here/../include/danaus_proto.h" "$here/build.sh")
cc=${CC:-cc}
if ! command -v "$cc" >/dev/null; then
  echo "preload build: no C compiler ($cc); install Debian's gcc (apt-get install gcc) to build the LD_PRELOAD library" >&2
  exit 1
fi
common=(-std=c11 -Wall -Wextra -Werror -fPIC -shared)
build() { # target, extra flags...
  local target="$out/$1"
  shift
  local stale=no
  [ -e "$target" ] || stale=yes
  for input in "${inputs[@]}"; do [ "$input" -nt "$target" ] && stale=yes; done
  [ "$stale" = no ] && return 0
  "$cc" "${common[@]}" "$@" -o "$target.tmp" "${sources[@]}" -ldl -lpthread
  mv "$target.tmp" "$target"
}
# -z defs: a symbol used but defined nowhere fails the build instead of the program that first calls it.
build libdanaus-preload.so -O2 -Wl,-z,defs
build libdanaus-preload-asan.so -O1 -g -fsanitize=address -fno-omit-frame-pointer
