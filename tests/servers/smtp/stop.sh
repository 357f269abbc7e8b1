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

# Only signal the pid if it is still ours (pids get reused).
# shellcheck source=tests/servers/lib.sh
source "$(dirname "$0")/../lib.sh"
stop_ours smtp "$pid" "$HERE/server.py"
rm -f "$PIDFILE" "$WORKDIR/smtp.ready"
