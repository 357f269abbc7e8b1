#!/usr/bin/env bash
# Start a real SMTP server (aiosmtpd, from PyPI; server.py beside this file) for Vigil's
# integration tests of alert routing to e-mail: STARTTLS with a certificate from a test CA,
# AUTH PLAIN/LOGIN only after TLS, one account, every accepted message appended to
# WORKDIR/received.jsonl.
#
#   tests/servers/smtp/start.sh WORKDIR      # then: . WORKDIR/env
#   tests/servers/smtp/stop.sh  WORKDIR
#
# The Python is $PYTHON, else the test venv ~/.cache/vigil/venv (scripts/test installs
# aiosmtpd there from tests/requirements.txt). Everything else lives in WORKDIR.
# See README.md beside this file.
set -euo pipefail

if [[ $# -ne 1 || -z ${1:-} ]]; then
  echo "usage: $0 WORKDIR" >&2
  exit 2
fi
mkdir -p "$1"
WORKDIR=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-$HOME/.cache/vigil/venv/bin/python}
TLS_NAME=localhost
SMTP_USER_NAME=vigil-alerts

log() { echo "[smtp] $*" >&2; }
t0=$SECONDS

[[ -x $PY ]] || PY=$(command -v "$PY" || true)
if [[ -z $PY ]] || ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
  echo "error: ${PYTHON:-$HOME/.cache/vigil/venv/bin/python} cannot import aiosmtpd;" \
       "install tests/requirements.txt into it (scripts/test does)" >&2
  exit 1
fi
command -v openssl >/dev/null || { echo "error: openssl is needed (apt-get install openssl)" >&2; exit 1; }
VERSION=$("$PY" -c 'import aiosmtpd; print(aiosmtpd.__version__)')

# ------------------------------------------------------------------ reset ---
PIDFILE=$WORKDIR/smtp.pid
is_ours() {  # pid still our server.py (pids get reused)
  [[ $1 =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null &&
    grep -qa -- "$HERE/server.py" "/proc/$1/cmdline" 2>/dev/null
}
if [[ -f $PIDFILE ]] && is_ours "$(cat "$PIDFILE")"; then
  echo "error: the SMTP server (pid $(cat "$PIDFILE")) is already running from $WORKDIR;" \
       "run stop.sh $WORKDIR first" >&2
  exit 1
fi
rm -rf "$WORKDIR/env" "$WORKDIR/env.tmp" "$WORKDIR/received.jsonl" "$WORKDIR/smtp.out" \
       "$WORKDIR/smtp.ready" "$PIDFILE" "$WORKDIR/tls"
mkdir -p "$WORKDIR/tls"

# ------------------------------------------------------- test CA and cert ---
# A CA made for this run, and a server certificate it signs for localhost and 127.0.0.1.
TLS=$WORKDIR/tls
# shellcheck source=tests/servers/lib.sh
source "$(dirname "$0")/../lib.sh"
make_test_ca "$TLS" smtp "$TLS_NAME"

# ------------------------------------------------------------------ start ---
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
PASSWORD=$("$PY" -c 'import secrets; print(secrets.token_hex(16))')
RECEIVED=$WORKDIR/received.jsonl

# All three standard streams are redirected so that a caller capturing this script's
# output is not held open by the server.
SMTP_PORT=$PORT SMTP_CERT=$TLS/server.pem SMTP_KEY=$TLS/server.key SMTP_USER=$SMTP_USER_NAME \
SMTP_PASSWORD=$PASSWORD SMTP_RECEIVED=$RECEIVED SMTP_READY=$WORKDIR/smtp.ready \
  "$PY" -u "$HERE/server.py" </dev/null >>"$WORKDIR/smtp.out" 2>&1 &
PID=$!
echo "$PID" >"$PIDFILE"
ready=0
cleanup() {
  if [[ $ready -ne 1 ]]; then
    log "setup failed; stopping the SMTP server (pid $PID)"
    "$HERE/stop.sh" "$WORKDIR" || true
  fi
}
trap cleanup EXIT

# server.py writes smtp.ready once aiosmtpd has answered a connection.
for _ in $(seq 300); do           # up to 30 s
  [[ -f $WORKDIR/smtp.ready ]] && break
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
if [[ ! -f $WORKDIR/smtp.ready ]]; then
  echo "error: the SMTP server did not start; tail of $WORKDIR/smtp.out:" >&2
  tail -n 40 "$WORKDIR/smtp.out" >&2 || true
  exit 1
fi

{
  echo "SMTP_HOST=127.0.0.1"
  echo "SMTP_PORT=$PORT"
  echo "SMTP_USER=$SMTP_USER_NAME"
  echo "SMTP_PASSWORD=$PASSWORD"
  echo "SMTP_CA=$TLS/ca.pem"
  echo "SMTP_TLS_NAME=$TLS_NAME"
  echo "SMTP_RECEIVED=$RECEIVED"
  echo "SMTP_PID=$PID"
  echo "SMTP_VERSION=$VERSION"
} >"$WORKDIR/env.tmp"
mv "$WORKDIR/env.tmp" "$WORKDIR/env"
ready=1
log "aiosmtpd $VERSION (pid $PID) up at 127.0.0.1:$PORT after $((SECONDS - t0)) s"
echo "smtp ready at 127.0.0.1:$PORT"
