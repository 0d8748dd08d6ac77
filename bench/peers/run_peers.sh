#!/usr/bin/env bash
# Runs the peers' workload (N no-op jobs, one client submitting one at a
# time, end to end; then status look-ups by id) on Celery, RQ and BullMQ,
# each on a Redis of our own in a temp dir, under three durability settings:
#   none      save "" and appendonly no   (nothing persisted)
#   everysec  appendonly yes, appendfsync everysec
#   always    appendonly yes, appendfsync always (every write fsynced)
# Prints machine-readable lines: PEER system= mode= figure= value= unit= jobs=
#
#   bench/peers/run_peers.sh [--jobs N] [--modes none,everysec,always] [--systems celery,rq,bullmq] [--install]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
jobs=20000 modes=none,everysec,always systems=celery,rq,bullmq install=0
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --systems) systems=$2; shift 2 ;;
    --install) install=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

# Debian's Python and its packages (python3-celery 5.2, python3-rq 1.13,
# python3-redis 4.3): not a pyenv or venv python that would not see them.
PY=/usr/bin/python3
if [ "$install" = 1 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  missing=()
  for p in redis-server python3-celery python3-rq python3-redis; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # Node may come from elsewhere than Debian's nodejs package: ask for the
  # commands, not the package, or apt fights the installed node.
  command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
  if [ ${#missing[@]} -gt 0 ]; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  [ -d "$here/bullmq/node_modules/bullmq" ] || (cd "$here/bullmq" && npm ci --no-audit --no-fund >/dev/null)
fi

tmp=$(mktemp -d /tmp/overseer-peers-XXXXXX)
port=$((20000 + RANDOM % 20000))
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${redis_pid:-}" ] && kill "$redis_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

start_redis() {  # MODE
  local conf="$tmp/redis-$1.conf" dir="$tmp/data-$1"
  rm -rf "$dir"; mkdir -p "$dir"
  {
    echo "port $port"; echo "bind 127.0.0.1"; echo "dir $dir"; echo "daemonize no"
    echo "save \"\""; echo "protected-mode yes"; echo "logfile $tmp/redis-$1.log"
    case "$1" in
      none) echo "appendonly no" ;;
      everysec) echo "appendonly yes"; echo "appendfsync everysec" ;;
      always) echo "appendonly yes"; echo "appendfsync always" ;;
    esac
  } > "$conf"
  redis-server "$conf" &
  redis_pid=$!
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.05; done
  echo "redis-server did not start" >&2; exit 1
}
stop_redis() {
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || kill "$redis_pid"
  wait "$redis_pid" 2>/dev/null || true
  redis_pid=""
}
stop_workers() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}

url() { echo "redis://127.0.0.1:$port/0"; }
for mode in ${modes//,/ }; do
  for system in ${systems//,/ }; do
    start_redis "$mode"
    echo "# peer $system mode=$mode redis=$(redis-server --version | awk '{print $3}') jobs=$jobs" >&2
    case "$system" in
      celery)
        (cd "$here" && exec $PY celery_bench.py worker --redis "$(url)" --mode "$mode" >"$tmp/celery-worker.log" 2>&1) &
        pids+=($!)
        (cd "$here" && $PY celery_bench.py client --redis "$(url)" --jobs "$jobs" --mode "$mode") || echo "# celery $mode FAILED" >&2
        ;;
      rq)
        for _ in 1 2; do  # one worker process per core
          (cd "$here" && exec $PY rq_bench.py worker --redis "$(url)" --mode "$mode" >"$tmp/rq-worker.log" 2>&1) &
          pids+=($!)
        done
        (cd "$here" && $PY rq_bench.py client --redis "$(url)" --jobs "$jobs" --mode "$mode") || echo "# rq $mode FAILED" >&2
        ;;
      bullmq)
        (cd "$here/bullmq" && node bench.js --port "$port" --jobs "$jobs" --mode "$mode") || echo "# bullmq $mode FAILED" >&2
        ;;
    esac
    stop_workers
    stop_redis
  done
done
