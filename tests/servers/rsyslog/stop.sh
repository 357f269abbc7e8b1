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

# Only signal the pid if it is still ours (pids get reused).
# shellcheck source=tests/servers/lib.sh
source "$(dirname "$0")/../lib.sh"
stop_ours rsyslog "$pid" "$WORKDIR/rsyslog.conf"
rm -f "$PIDFILE"
