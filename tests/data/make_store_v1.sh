#!/usr/bin/env bash
# Writes tests/data/store-v1.tar.gz and store-v1-answers.json with an
# overseerd of storage schema 1 (the layout before history moved into the
# job record; commit e76d539 and older). Kept for the record: the migration
# test reads the committed outputs, it does not run this.
#   tests/data/make_store_v1.sh path/to/old/overseerd
set -euo pipefail
bin=$1
here="$(cd "$(dirname "$0")" && pwd)"
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
"$bin" --data-dir "$tmp/data" --listen 127.0.0.1:0 --min-free-space 0 >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/out" "$tmp/err" 2>/dev/null && break; sleep 0.1; done
addr=$(grep -ho "listening on http://[0-9.:]*" "$tmp/out" | head -1 | sed "s|.*//||")
u="http://$addr/v1"
post() { curl -sf -X POST -H 'Content-Type: application/json' "$u/$1" -d "$2"; }
id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])'; }
noop=$(post jobs '{"tool":"noop","name":"plain","labels":{"k":"v"},"ttl_hours":168}' | id)
retried=$(post jobs '{"tool":"fail","params":{"failures":2},"retry":{"max_attempts":3,"initial_backoff_ms":1,"max_backoff_ms":2}}' | id)
failed=$(post jobs '{"tool":"fail","params":{"failures":5},"priority":7}' | id)
slept=$(post jobs '{"tool":"sleep","params":{"seconds":0.3,"steps":3},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}' | id)
cancelled=$(post jobs '{"tool":"sleep","params":{"seconds":3600}}' | id)
delayed=$(post jobs '{"tool":"noop","delay_s":100000000,"idempotency_key":"fixture-key"}' | id)
batch=$(post batches '{"name":"fixture","jobs":[{"tool":"noop"},{"tool":"noop"}]}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["batch_id"])')
sleep 1.5
curl -sf -X POST "$u/jobs/$cancelled/cancel" >/dev/null
sleep 0.5
python3 - "$u" "$here/store-v1-answers.json" "$noop" "$retried" "$failed" "$slept" "$cancelled" "$delayed" "$batch" <<'PY'
import json, sys, urllib.request
u, out, ids, batch = sys.argv[1], sys.argv[2], sys.argv[3:-1], sys.argv[-1]
def get(path):
    with urllib.request.urlopen(u + path) as r:
        return json.load(r)
answers = {"ids": ids, "batch": batch, "get": {}}
paths = ["/jobs?limit=100"] + [f"/jobs?status={s}&limit=100" for s in
         ["pending", "running", "retrying", "completed", "failed", "cancelled", "timed_out"]]
paths += [f"/batches/{batch}", "/jobs?tool=noop&limit=100", "/jobs?trace_id=4bf92f3577b34da6a3ce929d0e0e4736"]
for i in ids:
    paths += [f"/jobs/{i}", f"/jobs/{i}/history", f"/jobs/{i}/logs"]
for i in (ids[0], ids[1], ids[3]):
    paths += [f"/jobs/{i}/result"]
for p in paths:
    answers["get"][p] = get(p)
json.dump(answers, open(out, "w"), indent=1, sort_keys=True)
PY
kill -TERM "$pid"; wait "$pid" || true
tar -C "$tmp" -czf "$here/store-v1.tar.gz" data
echo "wrote $here/store-v1.tar.gz"
