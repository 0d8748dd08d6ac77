#!/usr/bin/env bash
# ThreadSanitizer run of the unit and integration tests, for developers
# (not part of ./build.sh test: see docs/testing.md).
#
#   tests/tsan.sh [ctest -R regex]
#
# Debian's libcaf, librocksdb and Boost are not built with -fsanitize=thread,
# so TSan cannot see the synchronisation inside them: a message handed from
# one thread to another through CAF's mailbox, or a RocksDB write, looks like
# an unsynchronised access. tests/tsan.supp suppresses exactly those frames
# (races whose both stacks run through those libraries); a race between two
# stacks of our own code is never suppressed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-tsan
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOVERSEER_TSAN=ON -DOVERSEER_WERROR=ON >/dev/null
cmake --build "$build" -j2 --target overseer_unit_tests overseer_integration_tests overseerd
export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp halt_on_error=1 second_deadlock_stack=1 history_size=4 ${TSAN_OPTIONS:-}"
ctest --test-dir "$build" -j2 --output-on-failure -L 'unit|integration' ${1:+-R "$1"}
