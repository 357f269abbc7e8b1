#!/usr/bin/env bash
# Stop the Synapse started by start.sh WORKDIR. Safe to call twice.
set -euo pipefail

if [[ $# -ne 1 || -z ${1:-} ]]; then
  echo "usage: $0 WORKDIR" >&2
  exit 2
fi
WORKDIR=$1
ENV_FILE=$WORKDIR/env

pid=""
if [[ -f $ENV_FILE ]]; then
  pid=$(sed -n 's/^SYNAPSE_PID=//p' "$ENV_FILE")
elif [[ -f $WORKDIR/homeserver.pid ]]; then
  # start.sh failed before writing env: fall back to Synapse's own pid file.
  pid=$(cat "$WORKDIR/homeserver.pid")
fi

# Only signal the pid if it is still our homeserver (pids get reused).
is_synapse() {
  kill -0 "$1" 2>/dev/null || return 1
  if [[ -r /proc/$1/cmdline ]]; then
    grep -qa synapse.app.homeserver "/proc/$1/cmdline"
  else
    ps -p "$1" -o args= 2>/dev/null | grep -q synapse.app.homeserver
  fi
}

if [[ -z $pid ]] || ! is_synapse "$pid"; then
  echo "[synapse] not running (${WORKDIR})" >&2
  exit 0
fi

kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 100); do           # up to 20 s for a clean shutdown
  is_synapse "$pid" || break
  sleep 0.2
done
if is_synapse "$pid"; then
  echo "[synapse] pid $pid ignored SIGTERM for 20 s; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 25); do is_synapse "$pid" || break; sleep 0.2; done
fi
echo "[synapse] stopped (pid $pid)" >&2
