#!/usr/bin/env bash
# The unit, integration and recovery suites on a slow disk, for developers (not
# part of ./build.sh test: see docs/testing.md).
#
#   tests/slow_disk.sh [ctest -R regex]
#
# A fast disk hides a test that assumes a sync is quick: CI's disk took
# 4-8 ms a sync where this machine's takes well under 1 ms. An LD_PRELOAD
# shim (tests/support/slow_sync.c) makes every sync of the daemons the
# suites start sleep OVERSEER_SLOW_SYNC_US first (default 6000).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
[ -x "$build/tests/overseer_integration_tests" ] || {
  echo "build the tests first: ./build.sh test, or cmake --build $build" >&2
  exit 2
}
cc -O2 -shared -fPIC -o "$build/slow_sync.so" tests/support/slow_sync.c -ldl
export OVERSEER_SLOW_SYNC_US=${OVERSEER_SLOW_SYNC_US:-6000}
LD_PRELOAD="$PWD/$build/slow_sync.so" ctest --test-dir "$build" -j2 --output-on-failure -L 'unit|integration|recovery' ${1:+-R "$1"}
