#!/usr/bin/env bash
# Stop the Keycloak started by start.sh WORKDIR. Safe to call twice.
set -euo pipefail

if [[ $# -ne 1 || -z ${1:-} ]]; then
  echo "usage: $0 WORKDIR" >&2
  exit 2
fi
PIDFILE=$1/keycloak.pid
[[ -f $PIDFILE ]] || exit 0
pid=$(cat "$PIDFILE")

# Only signal the pid if it is still our Keycloak (pids get reused).
is_keycloak() {
  [[ $1 =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null &&
    grep -qa keycloak "/proc/$1/cmdline" 2>/dev/null
}
if is_keycloak "$pid"; then
  # kc.sh forwards SIGTERM to its Java child and waits for it; remember the child in case
  # it has to be killed too.
  children=$(pgrep -P "$pid" || true)
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do           # up to 20 s for a clean shutdown
    is_keycloak "$pid" || break
    sleep 0.2
  done
  if is_keycloak "$pid"; then
    echo "[keycloak] pid $pid ignored SIGTERM for 20 s; sending SIGKILL" >&2
    kill -KILL "$pid" $children 2>/dev/null || true
  fi
  echo "[keycloak] stopped (pid $pid)" >&2
fi
rm -f "$PIDFILE"
