#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine:
#   ./build.sh run    install what is missing, build overseerd and the
#                     overseer client, start overseerd with the built-in and
#                     example tools (extra args go to it)
#   ./build.sh test   install what is missing, build, run every test (the
#                     clients and the dashboard too), then again under
#                     AddressSanitizer + UBSan, fuzz every input surface for
#                     a bounded time, and build as a packager would
set -euo pipefail
cd "$(dirname "$0")"

# libcli11-dev: the overseer client's argument parser (header-only);
# libjemalloc-dev: overseerd's allocator (docs/dependencies.md).
packages=(build-essential cmake ninja-build ccache libcaf-dev librocksdb-dev
          libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libre2-dev catch2 libcli11-dev libssl-dev
          libjemalloc-dev)
# Only the tests need these: python3 runs the urllib conformance client;
# clang and its runtime build the libFuzzer targets (docs/fuzzing.md); the
# clients' tests (clients/run_tests.sh) need a Python venv, PyYAML, and
# Node.js with npm: Debian's npm, unless the installed nodejs brings its own
# (NodeSource's does, and conflicts with Debian's npm); Debian's Chromium
# runs the dashboard's browser tests (tests/dashboard/); tmux hosts the
# overseer client's terminal tests (tests/integration/cli_terminal_test.cpp);
# the openssl command makes the cluster tests' certificates
# (tests/recovery/cluster_test.cpp).
test_packages=(python3 python3-venv python3-setuptools python3-yaml nodejs clang libclang-rt-14-dev chromium tmux openssl)

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ccache: precompiled headers are cacheable with this sloppiness, and paths
# relative to the checkout let a fresh clone in another folder hit the cache.
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

# A stage's header, with the seconds since the script started: where the
# time of a CI run goes (its limit is on the whole).
stage() { echo "== $* (at ${SECONDS} s)"; }

configure_and_build() {  # DIR [cmake args...] [-- targets...]
  local dir=$1; shift
  local args=() targets=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
  [ "${1:-}" = "--" ] && { shift; targets=("$@"); }
  cmake -S . -B "$dir" -G Ninja "${args[@]}" >/dev/null
  cmake --build "$dir" -j2 ${targets[@]:+--target "${targets[@]}"}
}

case "${1:-}" in
  run)
    install_missing
    configure_and_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOVERSEER_TESTS=OFF -DOVERSEER_WERROR=OFF -- overseerd overseer
    # The example tools, pointed at this checkout's scripts and a demo
    # genomes folder (docs/examples/tools.json uses /opt and /srv paths).
    demo=$PWD/overseer-data/demo
    mkdir -p "$demo/genomes"
    printf '>chr1 demo\nACGTGGCCAATTACGT\nGGCCNNACGT\n>chr2\nATATATGCGC\n' > "$demo/genomes/demo.fa"
    sed -e "s|/opt/overseer/examples|$PWD/docs/examples|g" -e "s|/srv/genomes|$demo/genomes|g" \
        docs/examples/tools.json > "$demo/tools.json"
    # exec keeps this PID: the README's crash step kills exactly this daemon.
    echo $$ > overseer-data/overseerd.pid
    exec ./build/overseerd --tools "$demo/tools.json" "${@:2}"
    ;;
  test)
    packages+=("${test_packages[@]}")
    command -v npm >/dev/null || packages+=(npm)
    install_missing
    stage "build (RelWithDebInfo, warnings as errors)"
    configure_and_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOVERSEER_TESTS=ON -DOVERSEER_WERROR=ON
    stage "unit, integration and recovery tests (ctest --test-dir build)"
    ctest --test-dir build -j2 --output-on-failure
    stage "Python and TypeScript clients against build/overseerd"
    clients/run_tests.sh build/overseerd
    # The dashboard in headless Chromium against build/overseerd (about 60 s;
    # screenshots in build/dashboard-artifacts/).
    stage "dashboard browser tests (tests/dashboard/run.sh)"
    tests/dashboard/run.sh
    stage "build under AddressSanitizer + UBSan (build-asan)"
    configure_and_build build-asan -DCMAKE_BUILD_TYPE=Debug -DOVERSEER_SANITIZE=ON -DOVERSEER_WERROR=ON
    stage "every test again under AddressSanitizer + UBSan"
    ctest --test-dir build-asan -j2 --output-on-failure
    # Every fuzz target for 30 s on its seeds and regressions; longer runs:
    # fuzz/run.sh SECONDS.
    stage "fuzzing (fuzz/run.sh 30)"
    fuzz/run.sh 30
    # A packager's build: plain Release, our warnings not errors.
    stage "plain Release build (cmake -DCMAKE_BUILD_TYPE=Release)"
    # Warnings stay warnings there, but Debian 12's GCC must print none: a
    # packager should not have to wonder which of them matter.
    mkdir -p build-release
    configure_and_build build-release -DCMAKE_BUILD_TYPE=Release -DOVERSEER_TESTS=OFF -- overseerd overseer overseer_demo \
      2>&1 | tee build-release/build.log
    if grep -q 'warning:' build-release/build.log; then
      echo "the plain Release build printed warnings (above); it must build without any" >&2
      exit 1
    fi
    stage "all passed"
    ;;
  *)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac
