#!/usr/bin/env bash
# A stand-in for a long genome annotation step, written the way a real tool
# talks to Overseer (docs/tools.md):
#   progress    @overseer {"progress": P, "step_name": ..., "current_step": I, "total_steps": N}
#   checkpoint  @overseer {"checkpoint": "..."}   saved durably by the engine and handed
#               back in $OVERSEER_CHECKPOINT_FILE when the job runs again after a
#               crash or a failed attempt
#   result      @overseer {"result": {...}}       the job's result
# Any other line is a log line (stdout: info, stderr: warning).
#
# Each attempt runs in a fresh working directory, so the output an attempt
# wrote before a crash is not where the next attempt runs. The checkpoint
# therefore names the file holding the output so far, and a resumed attempt
# starts its own file with exactly the chunks that checkpoint covers: none
# is lost, and a chunk written after the last checkpoint (then redone) is
# not kept twice.
#
# Usage: annotate.sh OUT_DIR FASTA [CHUNKS] [SECONDS_PER_CHUNK]
set -euo pipefail

out=$1 fasta=$2 chunks=${3:-10} pause=${4:-1}
[[ -r $fasta ]] || { echo "cannot read $fasta" >&2; exit 2; }
annotations=$out/annotations.tsv

json_escape() { local s=${1//\\/\\\\}; printf '%s' "${s//\"/\\\"}"; }

# The checkpoint is "CHUNKS_DONE GENES_SO_FAR FILE", FILE holding at least
# CHUNKS_DONE lines. Anything else starts over.
done_chunks=0 genes=0
if [[ -s ${OVERSEER_CHECKPOINT_FILE:-} ]]; then
  read -r saved_chunks saved_genes saved_file < "$OVERSEER_CHECKPOINT_FILE" || true
  if [[ ${saved_chunks:-} =~ ^[0-9]+$ && ${saved_genes:-} =~ ^[0-9]+$ ]] && (( saved_chunks <= chunks )) &&
     [[ -r ${saved_file:-} ]] && (( $(wc -l < "$saved_file") >= saved_chunks )); then
    head -n "$saved_chunks" "$saved_file" > "$annotations.partial"
    mv "$annotations.partial" "$annotations"
    done_chunks=$saved_chunks genes=$saved_genes
    echo "resuming after chunk $done_chunks of $chunks ($genes genes so far, from $saved_file)"
  fi
fi
(( done_chunks > 0 )) || : > "$annotations"

# Cancel and timeout send SIGTERM to the whole process group, then SIGKILL
# after kill_grace_s: stop at once, the checkpoint already holds the work.
step=$(( done_chunks + 1 ))
trap 'echo "stopped during chunk $step" >&2; exit 143' TERM

sequences=$(grep -c '^>' "$fasta" || true)
echo "annotating $sequences sequences of $fasta in $chunks chunks"
for (( step = done_chunks + 1; step <= chunks; step++ )); do
  sleep "$pause" & wait $!            # in the background, so that the trap runs at once
  genes=$(( genes + 3 * step ))       # the "work": a made-up number of genes per chunk
  printf 'chunk %d\t%d genes\n' "$step" "$(( 3 * step ))" >> "$annotations"
  sync "$annotations"                 # on disk before the checkpoint that counts it
  printf '@overseer {"progress": %d, "step_name": "annotate chunk %d", "current_step": %d, "total_steps": %d}\n' \
    $(( 100 * step / chunks )) "$step" "$step" "$chunks"
  printf '@overseer {"checkpoint": "%d %d %s"}\n' "$step" "$genes" "$(json_escape "$annotations")"
done

printf '@overseer {"result": {"genes": %d, "chunks": %d, "resumed_after": %d, "annotations": "%s"}}\n' \
  "$genes" "$chunks" "$done_chunks" "$(json_escape "$annotations")"
