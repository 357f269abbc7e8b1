#!/usr/bin/env bash
# Start a real PostgreSQL (Debian's packaged server, /usr/lib/postgresql/*/bin) for Vigil's
# integration tests of the shared audit store: a fresh cluster on a free 127.0.0.1 port,
# password (scram-sha-256) authentication, a database and the roles the tests use.
#
#   tests/servers/postgres/start.sh WORKDIR          # then: . WORKDIR/env
#   tests/servers/postgres/ctl.sh   WORKDIR stop     # stop / start the same cluster
#   tests/servers/postgres/ctl.sh   WORKDIR start    #   (same data, same port)
#   tests/servers/postgres/stop.sh  WORKDIR          # stop and remove everything
#
# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` system
# user and lives in a directory of its own, /tmp/vigil-pg.XXXXXX (WORKDIR may be somewhere
# that user cannot reach, such as /root); its path is in WORKDIR/pg-area and in the env
# file. See README.md beside this file.
set -euo pipefail

if [[ $# -ne 1 || -z ${1:-} ]]; then
  echo "usage: $0 WORKDIR" >&2
  exit 2
fi
mkdir -p "$1"
WORKDIR=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
HOST_PYTHON=${PYTHON:-python3}
DATABASE=vigil_audit

log() { echo "[postgres] $*" >&2; }
t0=$SECONDS

# ---------------------------------------------------------------- binaries ---
# The newest PostgreSQL installed the Debian way (postgresql-NN), unless PG_BIN is set.
if [[ -z ${PG_BIN:-} ]]; then
  PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
  PG_BIN=${PG_BIN%/initdb}
fi
if [[ -z $PG_BIN || ! -x $PG_BIN/initdb || ! -x $PG_BIN/pg_ctl || ! -x $PG_BIN/psql ]]; then
  echo "error: no PostgreSQL server found in /usr/lib/postgresql/*/bin" \
       "(apt-get install postgresql)" >&2
  exit 1
fi
PG_VERSION=$("$PG_BIN/postgres" --version | sed -n 's/.* \([0-9][0-9.]*\).*/\1/p')

# As root every server command runs as the postgres system user.
if [[ $(id -u) -eq 0 ]]; then
  getent passwd postgres >/dev/null ||
    { echo "error: running as root, but there is no 'postgres' system user" >&2; exit 1; }
  RUN_AS=(runuser -u postgres --)
else
  RUN_AS=()
fi

# ------------------------------------------------------------------- reset ---
if [[ -f $WORKDIR/pg-area ]]; then
  old_area=$(cat "$WORKDIR/pg-area")
  if [[ -f $old_area/data/postmaster.pid ]]; then
    old_pid=$(head -n 1 "$old_area/data/postmaster.pid")
    if [[ $old_pid =~ ^[0-9]+$ ]] && kill -0 "$old_pid" 2>/dev/null &&
       grep -qa -- "$old_area/data" "/proc/$old_pid/cmdline" 2>/dev/null; then
      echo "error: PostgreSQL (pid $old_pid) is already running from $WORKDIR;" \
           "run stop.sh $WORKDIR first" >&2
      exit 1
    fi
  fi
  "$HERE/stop.sh" "$WORKDIR"        # leftovers of a run that was not stopped
fi
rm -f "$WORKDIR/env" "$WORKDIR/env.tmp" "$WORKDIR/postgres.log"

AREA=$(mktemp -d /tmp/vigil-pg.XXXXXX)
echo "$AREA" >"$WORKDIR/pg-area"
DATA=$AREA/data
SOCKET_DIR=$AREA/socket
LOG=$AREA/postgres.log
mkdir -m 700 "$DATA" "$SOCKET_DIR"

ready=0
cleanup() {
  if [[ $ready -ne 1 ]]; then
    log "setup failed; stopping and removing the cluster"
    if [[ -f $LOG ]]; then
      echo "---- tail of $LOG ----" >&2
      tail -n 40 "$LOG" >&2 || true
    fi
    "$HERE/stop.sh" "$WORKDIR" || true
  fi
}
trap cleanup EXIT

PORT=$("$HOST_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
read -r SUPER_PW OWNER_PW ALICE_PW BOB_PW < <("$HOST_PYTHON" -c \
  'import secrets; print(*(secrets.token_hex(16) for _ in range(4)))')

# ------------------------------------------------------------------ initdb ---
printf '%s\n' "$SUPER_PW" >"$AREA/pwfile"
if [[ ${#RUN_AS[@]} -gt 0 ]]; then
  chown -R postgres:postgres "$AREA"
fi
chmod 700 "$AREA"
# Server commands run from inside the area: the postgres user may not be able to enter
# the caller's current directory.
pg() { (cd "$AREA" && "${RUN_AS[@]}" "$@"); }

# The bootstrap superuser is vigil_super (there is no `postgres` role). --no-sync: a test
# cluster needs no fsync at creation.
if ! pg "$PG_BIN/initdb" -D "$DATA" -U vigil_super --pwfile="$AREA/pwfile" \
     -E UTF8 --locale=C --auth=scram-sha-256 --no-sync >"$AREA/initdb.out" 2>&1; then
  cat "$AREA/initdb.out" >&2
  exit 1
fi
rm -f "$AREA/pwfile"

# Passwords for every connection: over the socket (reachable by its owner only) and over
# TCP from 127.0.0.1. Nothing else is allowed.
pg tee "$DATA/pg_hba.conf" >/dev/null <<EOF
# Written by tests/servers/postgres/start.sh.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  scram-sha-256
host    all       all   127.0.0.1/32   scram-sha-256
EOF
# Settings go into postgresql.conf so that ctl.sh start brings the cluster back the same.
# fsync and full_page_writes are off: a test cluster trades durability across an OS
# crash for speed. synchronous_commit stays on, so that a committed transaction survives
# any stop of the server itself, even kill -9.
pg tee -a "$DATA/postgresql.conf" >/dev/null <<EOF

# ---- tests/servers/postgres/start.sh ----
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCKET_DIR'
password_encryption = 'scram-sha-256'
fsync = off
full_page_writes = off
max_connections = 100
shared_buffers = 64MB
log_line_prefix = '%m [%p] %q%u@%d '
log_connections = off
log_min_messages = warning
EOF

# ------------------------------------------------------------------- start ---
if ! pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 -s start; then
  echo "error: pg_ctl start failed" >&2
  exit 1
fi
PID=$(head -n 1 "$DATA/postmaster.pid")
log "PostgreSQL $PG_VERSION (pid $PID) up on 127.0.0.1:$PORT after $((SECONDS - t0)) s"

# -------------------------------------------------------------------- seed ---
url() { echo "postgres://$1:$2@127.0.0.1:$PORT/$3"; }
SUPER_URL=$(url vigil_super "$SUPER_PW" "$DATABASE")
OWNER_URL=$(url vigil_owner "$OWNER_PW" "$DATABASE")
ALICE_URL=$(url op_alice "$ALICE_PW" "$DATABASE")
BOB_URL=$(url op_bob "$BOB_PW" "$DATABASE")

# -X: no ~/.psqlrc; PGCONNECT_TIMEOUT: fail fast. Over TCP, with the password, as the
# tests will connect.
psql_url() { PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -q "$@"; }
psql_url "$(url vigil_super "$SUPER_PW" postgres)" >/dev/null <<EOF
CREATE ROLE vigil_owner LOGIN NOSUPERUSER CREATEROLE NOCREATEDB PASSWORD '$OWNER_PW';
CREATE ROLE op_alice LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD '$ALICE_PW';
CREATE ROLE op_bob LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD '$BOB_PW';
CREATE DATABASE $DATABASE OWNER vigil_owner;
EOF

# Every URL logs in as the role it names.
for pair in "vigil_super $SUPER_URL" "vigil_owner $OWNER_URL" "op_alice $ALICE_URL" \
            "op_bob $BOB_URL"; do
  role=${pair%% *}
  got=$(psql_url "${pair#* }" -At -c 'SELECT current_user')
  [[ $got == "$role" ]] || { echo "error: login as $role gave '$got'" >&2; exit 1; }
done

{
  echo "PG_HOST=127.0.0.1"
  echo "PG_PORT=$PORT"
  echo "PG_DATABASE=$DATABASE"
  echo "PG_OWNER_URL=$OWNER_URL"
  echo "PG_ALICE_URL=$ALICE_URL"
  echo "PG_BOB_URL=$BOB_URL"
  echo "PG_SUPER_URL=$SUPER_URL"
  echo "PG_DATA=$DATA"
  echo "PG_BIN=$PG_BIN"
  echo "PG_VERSION=$PG_VERSION"
  echo "PG_SOCKET_DIR=$SOCKET_DIR"
  echo "PG_LOG=$LOG"
} >"$WORKDIR/env.tmp"
mv "$WORKDIR/env.tmp" "$WORKDIR/env"
ready=1
log "seeded in $((SECONDS - t0)) s total"
echo "postgres ready at 127.0.0.1:$PORT"
