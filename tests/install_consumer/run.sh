#!/usr/bin/env bash
# Installs the built project into a temp prefix, builds the consumer against
# it with find_package(overseer CONFIG) (with the README's embedding snippet
# compiled verbatim), and runs it.
set -euo pipefail
build_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
mkdir -p "$work/build"
# The first ```cpp block after "## Embedding" in the README.
awk '/^## Embedding/{s=1} s&&/^```cpp/{c=1;next} c&&/^```/{exit} c' "$here/../../README.md" > "$work/snippet"
[ -s "$work/snippet" ] || { echo "no cpp block under '## Embedding' in README.md" >&2; exit 1; }
grep '^#include' "$work/snippet" > "$work/build/readme_includes.inc"
grep -v '^#include' "$work/snippet" > "$work/build/readme_body.inc"
cmake -S "$here" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
"$work/build/consumer" "$work/data"
# The command-line client and its completions are installed beside overseerd.
for f in bin/overseerd bin/overseer share/bash-completion/completions/overseer share/zsh/vendor-completions/_overseer; do
  [ -e "$work/prefix/$f" ] || { echo "not installed: $f" >&2; exit 1; }
done
"$work/prefix/bin/overseer" --help >/dev/null
