#!/usr/bin/env bash
# Stop the SMTP server started by start.sh WORKDIR. Safe to call twice.
set -euo pipefail

if [[ $# -ne 1 || -z ${1:-} ]]; then
  echo "usage: $0 WORKDIR" >&2
  exit 2
fi
WORKDIR=$1
HERE=$(cd "$(dirname "$0")" && pwd)
PIDFILE=$WORKDIR/smtp.pid
[[ -f $PIDFILE ]] || exit 0
pid=$(cat "$PIDFILE")

# Only signal the pid if it is still our server.py (pids get reused).
is_ours() {
  [[ $1 =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null &&
    grep -qa -- "$HERE/server.py" "/proc/$1/cmdline" 2>/dev/null
}
if is_ours "$pid"; then
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do           # up to 10 s for a clean shutdown
    is_ours "$pid" || break
    sleep 0.1
  done
  if is_ours "$pid"; then
    echo "[smtp] pid $pid ignored SIGTERM for 10 s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  echo "[smtp] stopped (pid $pid)" >&2
fi
rm -f "$PIDFILE" "$WORKDIR/smtp.ready"
