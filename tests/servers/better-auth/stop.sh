#!/usr/bin/env bash
# Stop the Better Auth fixture server started by start.sh. Safe to call twice.
# Usage: stop.sh WORKDIR
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 WORKDIR" >&2
  exit 2
fi
WORKDIR="$1"
PIDFILE="$WORKDIR/server.pid"
[[ -f "$PIDFILE" ]] || exit 0
PID="$(cat "$PIDFILE")"
if [[ "$PID" =~ ^[0-9]+$ ]] && kill -0 "$PID" 2>/dev/null; then
  # Only kill what is really our server (the pid may have been reused).
  if tr '\0' ' ' <"/proc/$PID/cmdline" 2>/dev/null | grep -q 'server\.mjs'; then
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 1 50); do # 5 s
      kill -0 "$PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$PID" 2>/dev/null || true
  fi
fi
rm -f "$PIDFILE"
