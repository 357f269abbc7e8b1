#!/usr/bin/env bash
# Stop the rsyslogd started by start.sh WORKDIR. Safe to call twice.
set -euo pipefail

if [[ $# -ne 1 || -z ${1:-} ]]; then
  echo "usage: $0 WORKDIR" >&2
  exit 2
fi
WORKDIR=$(cd "$1" 2>/dev/null && pwd) || exit 0
PIDFILE=$WORKDIR/rsyslogd.pid

pid=""
if [[ -f $WORKDIR/env ]]; then
  pid=$(sed -n 's/^SYSLOG_PID=//p' "$WORKDIR/env")
fi
if [[ -z $pid && -f $PIDFILE ]]; then
  pid=$(cat "$PIDFILE")
fi
[[ -n $pid ]] || exit 0

# Only signal the pid if it is still our rsyslogd, run with this WORKDIR's config.
is_ours() {
  [[ $1 =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null &&
    grep -qa -- "$WORKDIR/rsyslog.conf" "/proc/$1/cmdline" 2>/dev/null
}
if is_ours "$pid"; then
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do           # up to 10 s for a clean shutdown
    is_ours "$pid" || break
    sleep 0.1
  done
  if is_ours "$pid"; then
    echo "[rsyslog] pid $pid ignored SIGTERM for 10 s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  echo "[rsyslog] stopped (pid $pid)" >&2
fi
rm -f "$PIDFILE"
