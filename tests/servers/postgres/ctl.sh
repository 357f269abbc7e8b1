#!/usr/bin/env bash
# Stop or start again the PostgreSQL cluster that start.sh WORKDIR made: the same data,
# the same port, the same roles and passwords (WORKDIR/env stays valid).
#
#   tests/servers/postgres/ctl.sh WORKDIR stop     # fast shutdown; no-op if stopped
#   tests/servers/postgres/ctl.sh WORKDIR start    # waits until it accepts connections
#   tests/servers/postgres/ctl.sh WORKDIR status   # exit 0 if running, 3 if not
set -euo pipefail

if [[ $# -ne 2 || -z ${1:-} ]]; then
  echo "usage: $0 WORKDIR stop|start|status" >&2
  exit 2
fi
WORKDIR=$1
ACTION=$2
log() { echo "[postgres] $*" >&2; }

[[ -f $WORKDIR/pg-area ]] || { echo "error: no cluster from start.sh in $WORKDIR" >&2; exit 1; }
AREA=$(cat "$WORKDIR/pg-area")
DATA=$AREA/data
LOG=$AREA/postgres.log
[[ -f $DATA/PG_VERSION ]] || { echo "error: no cluster in $DATA" >&2; exit 1; }
# The binaries of the cluster's major version, as start.sh chose them.
PG_BIN=/usr/lib/postgresql/$(cat "$DATA/PG_VERSION")/bin
if [[ -f $WORKDIR/env ]]; then
  env_bin=$(sed -n 's/^PG_BIN=//p' "$WORKDIR/env")
  [[ -n $env_bin ]] && PG_BIN=$env_bin
fi
if [[ $(id -u) -eq 0 ]]; then RUN_AS=(runuser -u postgres --); else RUN_AS=(); fi
pg() { (cd "$AREA" && "${RUN_AS[@]}" "$@"); }

running() { pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

# The postmaster's pid, if it is still this cluster's (pids get reused).
our_postmaster() {
  local pid
  [[ -f $DATA/postmaster.pid ]] || return 1
  pid=$(head -n 1 "$DATA/postmaster.pid")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$DATA" ]] ||
    grep -qa -- "$DATA" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

case $ACTION in
  stop)
    if running; then
      t0=$SECONDS
      if ! pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 20 -s stop; then
        if pid=$(our_postmaster); then
          log "pid $pid did not stop within 20 s; sending SIGKILL"
          kill -KILL "$pid" 2>/dev/null || true
          for _ in $(seq 25); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        fi
      fi
      log "stopped ($DATA) in $((SECONDS - t0)) s"
    fi
    ;;
  start)
    if running; then
      log "already running ($DATA)"
    else
      t0=$SECONDS
      if ! pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 -s start; then
        echo "---- tail of $LOG ----" >&2
        tail -n 40 "$LOG" >&2 || true
        exit 1
      fi
      log "started (pid $(head -n 1 "$DATA/postmaster.pid"), $DATA) in $((SECONDS - t0)) s"
    fi
    ;;
  status)
    if running; then echo running; else echo stopped; exit 3; fi
    ;;
  *)
    echo "usage: $0 WORKDIR stop|start|status" >&2
    exit 2
    ;;
esac
