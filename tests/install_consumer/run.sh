#!/usr/bin/env bash
# Installs the built project into a temp prefix, builds the consumer against
# it with find_package(overseer CONFIG), and runs it.
set -euo pipefail
build_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$here" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer" "$work/data"
# The command-line client and its completions are installed beside overseerd.
for f in bin/overseerd bin/overseer share/bash-completion/completions/overseer share/zsh/vendor-completions/_overseer; do
  [ -e "$work/prefix/$f" ] || { echo "not installed: $f" >&2; exit 1; }
done
"$work/prefix/bin/overseer" --help >/dev/null
