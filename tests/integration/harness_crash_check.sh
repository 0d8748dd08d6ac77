#!/usr/bin/env bash
# A test that dies from a signal must not leave its overseerd running (an
# orphan would hold ctest's pipe open, and ctest would wait for it):
# tests/main.cpp kills the children of a dying test process.
#   harness_crash_check.sh PATH/TO/overseer_integration_tests
set -uo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The dying test cannot remove its own temp dir: it makes it under $work.
TMPDIR=$work OVERSEER_HARNESS_PID_FILE=$work/pid "$1" "[harness]" >"$work/out" 2>&1
status=$?
if [ "$status" -eq 0 ] || [ ! -s "$work/pid" ]; then
  echo "the hidden harness test did not start a daemon and die (status $status)"; cat "$work/out"; exit 1
fi
pid=$(cat "$work/pid")
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || { echo "overseerd $pid went down with the test (status $status)"; exit 0; }
  sleep 0.05
done
echo "overseerd $pid outlived the test that started it"
kill -9 "$pid"
exit 1
