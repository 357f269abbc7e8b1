#!/usr/bin/env bash
# Start a real Better Auth server (admin + bearer plugins, memory adapter),
# seed it over HTTP and write WORKDIR/env + WORKDIR/fixture.json.
#
# Usage: start.sh WORKDIR
# Env:   PORT (default 0 = any free port), NPM (default npm), NODE (default node)
# Last stdout line: "better-auth ready at <BETTER_AUTH_URL>"
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 WORKDIR" >&2
  exit 2
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$1"
WORKDIR="$(cd "$1" && pwd)"
NODE="${NODE:-node}"
NPM="${NPM:-npm}"
LOG="$WORKDIR/server.log"

# --- 1. dependencies: npm install only if node_modules is missing or the
#        manifest/lock changed since the last install (stamp file). A lock
#        serialises concurrent start.sh runs sharing this folder.
want_stamp="$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1) node-$("$NODE" --version)"
stamp_file="$HERE/node_modules/.vigil-install-stamp"
install_deps() {
  if [[ -d "$HERE/node_modules" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$want_stamp" ]]; then
    echo "better-auth: dependencies up to date, skipping npm install"
    return
  fi
  echo "better-auth: npm install in $HERE"
  local t0=$SECONDS
  (cd "$HERE" && "$NPM" install --no-audit --no-fund --loglevel=error) >&2
  # npm install may rewrite the lock's formatting; stamp what is there now.
  want_stamp="$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1) node-$("$NODE" --version)"
  printf '%s\n' "$want_stamp" >"$stamp_file"
  echo "better-auth: npm install took $((SECONDS - t0)) s"
}
if command -v flock >/dev/null 2>&1; then
  exec 9>"$HERE/.install.lock"
  flock 9
  install_deps
  flock -u 9
  exec 9>&-
else
  install_deps
fi

# --- 2. start the server in the background
rand() { head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24; }
ADMIN_PASSWORD="admin-$(rand)"
USER_PASSWORD="user-$(rand)"
ADMINS_JSON="[{\"email\":\"admin@example.org\",\"password\":\"$ADMIN_PASSWORD\",\"name\":\"Admin Example\"},{\"email\":\"ops@example.org\",\"password\":\"$ADMIN_PASSWORD\",\"name\":\"Ops Example\"}]"

rm -f "$WORKDIR/env" "$WORKDIR/fixture.json"
: >"$LOG"
(
  cd "$HERE"
  PORT="${PORT:-0}" BETTER_AUTH_BOOTSTRAP_ADMINS="$ADMINS_JSON" \
    exec "$NODE" server.mjs </dev/null >>"$LOG" 2>&1
) &
PID=$!
echo "$PID" >"$WORKDIR/server.pid"

cleanup_on_error() {
  local rc=$?
  echo "better-auth: start failed (rc=$rc); server log:" >&2
  sed 's/^/  | /' "$LOG" >&2 || true
  kill "$PID" 2>/dev/null || true
  rm -f "$WORKDIR/server.pid"
  exit "$rc"
}
trap cleanup_on_error ERR

# --- 3. wait for "listening on http://127.0.0.1:PORT" (stderr shares the log,
#        so look for the line rather than trusting line 1)
ORIGIN=""
for _ in $(seq 1 300); do # 30 s
  ORIGIN="$(sed -n 's/^listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$LOG" | head -n1)"
  [[ -n "$ORIGIN" ]] && break
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "better-auth: server exited before listening" >&2
    false
  fi
  sleep 0.1
done
if [[ -z "$ORIGIN" ]]; then
  echo "better-auth: server did not report listening within 30 s" >&2
  false
fi
URL="$ORIGIN/api/auth"

# --- 4. seed over HTTP; writes WORKDIR/env and WORKDIR/fixture.json
(
  cd "$HERE"
  BETTER_AUTH_URL="$URL" SEED_WORKDIR="$WORKDIR" BETTER_AUTH_PID="$PID" \
    SEED_ADMIN_PASSWORD="$ADMIN_PASSWORD" SEED_USER_PASSWORD="$USER_PASSWORD" \
    "$NODE" seed.mjs
)
trap - ERR
echo "better-auth ready at $URL"
