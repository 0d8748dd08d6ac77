#!/usr/bin/env bash
# Runs the peers' workload (N no-op jobs, one client submitting one at a
# time, end to end; a bulk enqueue; then status look-ups by id where the
# system has them) on Celery, RQ, BullMQ and Sidekiq, each on a Redis of our
# own in a temp dir, and on pg-boss, on a PostgreSQL cluster of our own in a
# temp dir, under three durability settings:
#   none      Redis: save "" and appendonly no   (nothing persisted)
#             PostgreSQL: fsync=off, synchronous_commit=off, full_page_writes=off
#   everysec  Redis: appendonly yes, appendfsync everysec
#             PostgreSQL: synchronous_commit=off (the WAL writer flushes every
#             wal_writer_delay, 200 ms: the nearest analogue)
#   always    Redis: appendonly yes, appendfsync always (every write fsynced)
#             PostgreSQL: synchronous_commit=on, fsync=on (every commit flushed)
# Prints machine-readable lines: PEER system= mode= figure= value= unit= jobs=
# Every process it starts is stopped when it exits, also on failure or Ctrl-C.
#
#   bench/peers/run_peers.sh [--jobs N] [--modes none,everysec,always]
#                            [--systems celery,rq,bullmq,sidekiq,pgboss] [--install]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
jobs=20000 modes=none,everysec,always systems=celery,rq,bullmq,sidekiq,pgboss install=0
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --systems) systems=$2; shift 2 ;;
    --install) install=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for s in ${systems//,/ }; do
  case "$s" in celery|rq|bullmq|sidekiq|pgboss) ;; *) echo "unknown system $s" >&2; exit 2 ;; esac
done
has() { [[ ",$systems," == *",$1,"* ]]; }

# Debian's Python and its packages (python3-celery 5.2, python3-rq 1.13,
# python3-redis 4.3): not a pyenv or venv python that would not see them.
PY=/usr/bin/python3
# Debian 12's PostgreSQL 15, used only through its binaries: never the system cluster.
PGBIN=/usr/lib/postgresql/15/bin
if [ "$install" = 1 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  want=()
  { has celery || has rq || has bullmq || has sidekiq; } && want+=(redis-server)
  has celery && want+=(python3-celery python3-redis)
  has rq && want+=(python3-rq python3-redis)
  has sidekiq && want+=(ruby-sidekiq)
  has pgboss && want+=(postgresql-15)
  missing=()
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # Node may come from elsewhere than Debian's nodejs package: ask for the
  # commands, not the package, or apt fights the installed node.
  if has bullmq || has pgboss; then
    command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if has bullmq; then
    [ -d "$here/bullmq/node_modules/bullmq" ] || (cd "$here/bullmq" && npm ci --no-audit --no-fund >/dev/null)
  fi
  if has pgboss; then
    [ -d "$here/pgboss/node_modules/pg-boss" ] || (cd "$here/pgboss" && npm ci --no-audit --no-fund >/dev/null)
  fi
fi

tmp=$(mktemp -d /tmp/overseer-peers-XXXXXX)
pids=() redis_pid="" pg_dir="" pg_user=""
cleanup() {
  trap - INT TERM HUP
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # Worker processes the Sidekiq client started and could not stop itself.
  if [ -f "$tmp/sidekiq.pids" ]; then
    while read -r p; do kill "$p" 2>/dev/null || true; done < "$tmp/sidekiq.pids"
  fi
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
  [ -n "$pg_dir" ] && stop_postgres immediate
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# A loopback port nothing listens on.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

# Runs a client in the background and waits for it, so that a signal to this
# script is handled (and everything stopped) at once, not when the client ends.
run_client() {  # NAME MODE DIR CMD...
  local name=$1 mode=$2 dir=$3 rc=0; shift 3
  (cd "$dir" && exec "$@") &
  local p=$!
  pids+=("$p")
  wait "$p" || rc=$?
  pids=("${pids[@]/$p}")
  [ "$rc" = 0 ] || echo "# $name $mode FAILED (exit $rc)" >&2
}

start_redis() {  # MODE
  local conf="$tmp/redis-$1.conf" dir="$tmp/data-$1"
  rm -rf "$dir"; mkdir -p "$dir"
  port=$(free_port)
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
  # Up to 30 s: right after a `sync` (the paired rounds) a slow disk has
  # kept it from answering within 5 s.
  for _ in $(seq 600); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.05; done
  tail -n 20 "$tmp/redis-$1.log" >&2 2>/dev/null
  echo "redis-server did not start within 30 s" >&2; exit 1
}
stop_redis() {
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || kill "$redis_pid"
  wait "$redis_pid" 2>/dev/null || true
  redis_pid=""
}
stop_workers() {
  for p in "${pids[@]}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  pids=()
}

# PostgreSQL refuses to run as root: as root, the cluster belongs to the
# postgres user (or nobody), in a temp dir of its own with its unix socket.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then (cd "$pg_dir" && runuser -u "$pg_user" -- "$@"); else (cd "$pg_dir" && "$@"); fi
}
start_postgres() {  # MODE
  if [ -z "$pg_dir" ]; then
    pg_dir=$(mktemp -d /tmp/overseer-peers-pg-XXXXXX)
    if [ "$(id -u)" -eq 0 ]; then
      pg_user=postgres; id -u postgres >/dev/null 2>&1 || pg_user=nobody
      chown "$pg_user" "$pg_dir"
    fi
    as_pg "$PGBIN/initdb" -D "$pg_dir/data" -U bench --auth=trust -E UTF8 --no-instructions >"$pg_dir/initdb.log" 2>&1 ||
      { cat "$pg_dir/initdb.log" >&2; echo "initdb failed" >&2; exit 1; }
  fi
  pg_port=$(free_port)
  local settings="-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$pg_dir"
  case "$1" in
    none) settings+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off" ;;
    everysec) settings+=" -c fsync=on -c synchronous_commit=off" ;;
    always) settings+=" -c fsync=on -c synchronous_commit=on" ;;
  esac
  as_pg "$PGBIN/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/postgres-$1.log" -w -t 60 -o "$settings" start >/dev/null ||
    { cat "$pg_dir/postgres-$1.log" >&2; echo "postgres did not start" >&2; exit 1; }
  "$PGBIN/createdb" -h "$pg_dir" -p "$pg_port" -U bench "bench_$1"
}
stop_postgres() {  # [fast|immediate]
  as_pg "$PGBIN/pg_ctl" -D "$pg_dir/data" -m "${1:-fast}" -w stop >/dev/null 2>&1 || true
  if [ "${1:-fast}" = immediate ]; then rm -rf "$pg_dir"; pg_dir=""; fi
}

url() { echo "redis://127.0.0.1:$port/0"; }
for mode in ${modes//,/ }; do
  for system in ${systems//,/ }; do
    if [ "$system" = pgboss ]; then
      start_postgres "$mode"
      echo "# peer $system mode=$mode postgresql=$("$PGBIN/postgres" --version | awk '{print $3}') jobs=$jobs" >&2
      run_client pgboss "$mode" "$here/pgboss" node bench.js --port "$pg_port" --user bench --database "bench_$mode" --jobs "$jobs" --mode "$mode"
      stop_postgres fast
      continue
    fi
    start_redis "$mode"
    echo "# peer $system mode=$mode redis=$(redis-server --version | awk '{print $3}' | cut -d= -f2) jobs=$jobs" >&2
    case "$system" in
      celery)
        (cd "$here" && exec $PY celery_bench.py worker --redis "$(url)" --mode "$mode" >"$tmp/celery-worker.log" 2>&1) &
        pids+=($!)
        run_client celery "$mode" "$here" $PY celery_bench.py client --redis "$(url)" --jobs "$jobs" --mode "$mode"
        ;;
      rq)
        for _ in 1 2; do  # one worker process per core
          (cd "$here" && exec $PY rq_bench.py worker --redis "$(url)" --mode "$mode" >"$tmp/rq-worker.log" 2>&1) &
          pids+=($!)
        done
        run_client rq "$mode" "$here" $PY rq_bench.py client --redis "$(url)" --jobs "$jobs" --mode "$mode"
        ;;
      bullmq)
        run_client bullmq "$mode" "$here/bullmq" node bench.js --port "$port" --jobs "$jobs" --mode "$mode"
        ;;
      sidekiq)
        # The client starts its sidekiq worker processes (one per core,
        # concurrency 10 each) and stops them; their pids are in the pidfile
        # in case it cannot.
        run_client sidekiq "$mode" "$here/sidekiq" ruby sidekiq_bench.rb --redis "$(url)" --jobs "$jobs" --mode "$mode" \
          --pidfile "$tmp/sidekiq.pids" --log "$tmp/sidekiq-worker.log"
        ;;
    esac
    stop_workers
    stop_redis
  done
done
