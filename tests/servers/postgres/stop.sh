#!/usr/bin/env bash
# Stop the PostgreSQL started by start.sh WORKDIR and remove its cluster (the directory
# named in WORKDIR/pg-area). Its server log is kept as WORKDIR/postgres.log. Safe to call
# twice.
set -euo pipefail

if [[ $# -ne 1 || -z ${1:-} ]]; then
  echo "usage: $0 WORKDIR" >&2
  exit 2
fi
WORKDIR=$1
HERE=$(cd "$(dirname "$0")" && pwd)
[[ -f $WORKDIR/pg-area ]] || exit 0
AREA=$(cat "$WORKDIR/pg-area")

# Remove only what start.sh made: a directory named vigil-pg.XXXXXX.
if [[ $AREA == /tmp/vigil-pg.* && -d $AREA ]]; then
  "$HERE/ctl.sh" "$WORKDIR" stop || true
  cp "$AREA/postgres.log" "$WORKDIR/postgres.log" 2>/dev/null || true
  rm -rf "$AREA"
fi
rm -f "$WORKDIR/pg-area"
