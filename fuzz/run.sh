#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a while.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]      (default 60)
#
# Configures build-fuzz/ (clang, OVERSEER_FUZZ=ON: ASan, UBSan, coverage;
# ccache when installed), builds only the fuzzers, then runs every target
# on a scratch copy of its seeds (fuzz/corpus/<target>/ plus the fixed
# regressions directly in fuzz/regressions/<target>/), so the checkout stays
# as it is. Exits non-zero if any target found a crash, a sanitizer report,
# a broken check (==overseer-fuzz== FINDING), a leak, a timeout (10 s) or an
# input needing more than 2 GiB, and prints the path of each such input.
# Findings and logs stay in build-fuzz/fuzz-findings/<target>/.
# docs/fuzzing.md says what each target covers.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
build=${OVERSEER_FUZZ_BUILD_DIR:-build-fuzz}
case $build in /*) ;; *) build=$PWD/$build ;; esac  # absolute: the paths printed below hold from anywhere
targets=(codec exec_protocol http_request job_spec param_schema stream_message tools_file)

if ! command -v clang++ >/dev/null; then
  echo "fuzz/run.sh: clang++ not found; install clang and libclang-rt-14-dev (docs/fuzzing.md)" >&2
  exit 2
fi
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DOVERSEER_FUZZ=ON -DOVERSEER_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target overseer_fuzzers

# Scratch space for the corpus copies and for what the targets create under
# TMPDIR (the live server's data dir, the exec tool's workdir), removed at
# the end even when a target crashed before cleaning up.
work=$(mktemp -d "${TMPDIR:-/tmp}/overseer-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tmp"
symbolizer=$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)
[ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer

# One target per core at a time (libFuzzer runs on one thread): each still
# gets its SECONDS, and the stage takes about half as long on 2 cores. Each
# target's verdict is printed in the targets' order once all have run.
jobs=$(nproc 2>/dev/null || echo 1)
fuzz_one() {  # TARGET: runs it; its verdict goes to $work/verdict.TARGET, status 1 if it found something
  local t=$1 corpus=$work/corpus/$1 findings=$build/fuzz-findings/$1
  mkdir -p "$corpus" "$findings"
  # Regressions bigger than 64 KiB are replayed by the unit tests only: as
  # seeds they would make every mutation slow.
  for dir in "fuzz/corpus/$t" "fuzz/regressions/$t"; do
    [ -d "$dir" ] && find "$dir" -maxdepth 1 -type f -size -64k -exec cp {} "$corpus/" \;
  done
  local log=$findings/log verdict=$work/verdict.$t
  mkdir -p "$work/tmp/$t"
  if TMPDIR=$work/tmp/$t "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" >"$log" 2>&1; then
    local runs rate cov
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz_$t: ok, $runs inputs in ${seconds}s ($rate/s), $cov" > "$verdict"
  else
    {
      echo "fuzz_$t: FAILED (log: $log)"
      grep -E '==overseer-fuzz== FINDING|^SUMMARY|ERROR: libFuzzer' "$log" | head -5 | sed 's/^/  /' || true
      grep -o 'Test unit written to .*' "$log" | sed 's/^Test unit written to /  input: /' || true
    } > "$verdict"
    return 1
  fi
}

failed=0
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
for t in "${targets[@]}"; do
  cat "$work/verdict.$t" 2>/dev/null || { echo "fuzz_$t: FAILED (no verdict: the run did not finish)"; failed=1; }
done
exit $failed
