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
# Usage: annotate.sh OUT_DIR FASTA [CHUNKS] [SECONDS_PER_CHUNK]
set -euo pipefail

out=$1 fasta=$2 chunks=${3:-10} pause=${4:-1}
[[ -r $fasta ]] || { echo "cannot read $fasta" >&2; exit 2; }

# The checkpoint is "CHUNKS_DONE GENES_SO_FAR". Anything else starts over.
done_chunks=0 genes=0
if [[ -s ${OVERSEER_CHECKPOINT_FILE:-} ]]; then
  read -r saved_chunks saved_genes < "$OVERSEER_CHECKPOINT_FILE" || true
  if [[ ${saved_chunks:-} =~ ^[0-9]+$ && ${saved_genes:-} =~ ^[0-9]+$ ]] && (( saved_chunks <= chunks )); then
    done_chunks=$saved_chunks genes=$saved_genes
    echo "resuming after chunk $done_chunks of $chunks ($genes genes so far)"
  fi
fi

# Cancel and timeout send SIGTERM to the whole process group, then SIGKILL
# after kill_grace_s: stop at once, the checkpoint already holds the work.
step=$(( done_chunks + 1 ))
trap 'echo "stopped during chunk $step" >&2; exit 143' TERM

sequences=$(grep -c '^>' "$fasta" || true)
echo "annotating $sequences sequences of $fasta in $chunks chunks"
for (( step = done_chunks + 1; step <= chunks; step++ )); do
  sleep "$pause" & wait $!            # in the background, so that the trap runs at once
  genes=$(( genes + 3 * step ))       # the "work": a made-up number of genes per chunk
  printf 'chunk %d\t%d genes\n' "$step" "$(( 3 * step ))" >> "$out/annotations.tsv"
  printf '@overseer {"progress": %d, "step_name": "annotate chunk %d", "current_step": %d, "total_steps": %d}\n' \
    $(( 100 * step / chunks )) "$step" "$step" "$chunks"
  printf '@overseer {"checkpoint": "%d %d"}\n' "$step" "$genes"
done

printf '@overseer {"result": {"genes": %d, "chunks": %d, "resumed_after": %d, "annotations": "%s"}}\n' \
  "$genes" "$chunks" "$done_chunks" "$out/annotations.tsv"
