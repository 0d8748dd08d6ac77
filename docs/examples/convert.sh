#!/usr/bin/env bash
# A stand-in for a program that cannot be changed: it knows nothing of
# Overseer and prints its progress its own way ("[convert] 40% done"), which
# the tool's progress_regex turns into job progress.
#
# Usage: convert.sh INPUT OUTPUT_DIR [FORMAT]
set -euo pipefail
input=$1 out=$2 format=${3:-fasta}
[[ -r $input ]] || { echo "convert: cannot read $input" >&2; exit 1; }
for pct in 0 20 40 60 80; do
  echo "[convert] $pct% done"
  sleep 0.2
done
tr 'acgt' 'ACGT' < "$input" > "$out/converted.$format"
echo "[convert] 100% done: wrote $out/converted.$format"
