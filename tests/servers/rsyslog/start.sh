#!/usr/bin/env bash
# Start a real rsyslog (Debian's rsyslog and rsyslog-gnutls packages) for Vigil's
# integration tests of alert routing to syslog: one rsyslogd of our own (not the system
# one) listening on three free 127.0.0.1 ports, UDP, plain TCP and TLS, that parses every
# message with rsyslog's RFC 5424 parser and writes it as one JSON line to
# WORKDIR/received.jsonl.
#
#   tests/servers/rsyslog/start.sh WORKDIR      # then: . WORKDIR/env
#   tests/servers/rsyslog/stop.sh  WORKDIR
#
# Everything (config, test CA and server certificate, spool, pid file, logs) lives in
# WORKDIR. See README.md beside this file.
set -euo pipefail

if [[ $# -ne 1 || -z ${1:-} ]]; then
  echo "usage: $0 WORKDIR" >&2
  exit 2
fi
mkdir -p "$1"
WORKDIR=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
HOST_PYTHON=${PYTHON:-python3}
TLS_NAME=localhost

log() { echo "[rsyslog] $*" >&2; }
t0=$SECONDS

RSYSLOGD=$(command -v rsyslogd || true)
[[ -n $RSYSLOGD ]] || RSYSLOGD=/usr/sbin/rsyslogd
[[ -x $RSYSLOGD ]] ||
  { echo "error: rsyslogd not found (apt-get install rsyslog rsyslog-gnutls)" >&2; exit 1; }
MODDIR=""
for d in /usr/lib/*-linux-gnu/rsyslog /usr/lib/rsyslog /usr/lib64/rsyslog; do
  [[ -f $d/imtcp.so ]] && { MODDIR=$d; break; }
done
[[ -n $MODDIR ]] || { echo "error: no rsyslog modules (imtcp.so) found" >&2; exit 1; }
[[ -f $MODDIR/lmnsd_gtls.so ]] ||
  { echo "error: rsyslog's TLS driver lmnsd_gtls.so is missing (apt-get install rsyslog-gnutls)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "error: openssl is needed (apt-get install openssl)" >&2; exit 1; }
VERSION=$("$RSYSLOGD" -v | sed -n '1s/^rsyslogd *\([0-9][0-9.]*\).*/\1/p')

# ------------------------------------------------------------------ reset ---
PIDFILE=$WORKDIR/rsyslogd.pid
is_ours() {  # pid still our rsyslogd (pids get reused)
  [[ $1 =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null &&
    grep -qa -- "$WORKDIR/rsyslog.conf" "/proc/$1/cmdline" 2>/dev/null
}
if [[ -f $PIDFILE ]] && is_ours "$(cat "$PIDFILE")"; then
  echo "error: rsyslogd (pid $(cat "$PIDFILE")) is already running from $WORKDIR;" \
       "run stop.sh $WORKDIR first" >&2
  exit 1
fi
rm -rf "$WORKDIR/env" "$WORKDIR/env.tmp" "$WORKDIR/received.jsonl" "$WORKDIR/rsyslogd.log" \
       "$WORKDIR/rsyslogd.out" "$WORKDIR/rsyslog.conf" "$PIDFILE" "$WORKDIR/spool" \
       "$WORKDIR/tls"
mkdir -p "$WORKDIR/spool" "$WORKDIR/tls"

# ------------------------------------------------------- test CA and cert ---
# A CA made for this run, and a server certificate it signs for localhost and 127.0.0.1.
TLS=$WORKDIR/tls
# shellcheck source=tests/servers/lib.sh
source "$(dirname "$0")/../lib.sh"
make_test_ca "$TLS" rsyslog "$TLS_NAME"

# ----------------------------------------------------------------- config ---
read -r UDP_PORT TCP_PORT TLS_PORT < <("$HOST_PYTHON" - <<'PY'
import socket
socks = []
for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM, socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(*(s.getsockname()[1] for s in socks))
PY
)
RECEIVED=$WORKDIR/received.jsonl

cat >"$WORKDIR/rsyslog.conf" <<CONF
# Written by tests/servers/rsyslog/start.sh.
global(
  workDirectory="$WORKDIR/spool"
  maxMessageSize="64k"
  # rsyslogd's own messages go through this config (to rsyslogd.log below), not to the
  # system's logger.
  processInternalMessages="on"
  net.enableDNS="off"
  # Keep control characters (a newline in a message) as they came: JSON escapes them.
  parser.escapeControlCharactersOnReceive="off"
  defaultNetstreamDriverCAFile="$TLS/ca.pem"
  defaultNetstreamDriverCertFile="$TLS/server.pem"
  defaultNetstreamDriverKeyFile="$TLS/server.key"
)

# Every field of the RFC 5424 header, the structured data, the message, the input it
# came in on, and the message as received. jsonf escapes each value for JSON.
template(name="vigil_jsonl" type="list" option.jsonf="on") {
  property(outname="protocol_version" name="protocol-version" format="jsonf")
  property(outname="pri" name="pri" format="jsonf" dataType="number")
  property(outname="facility" name="syslogfacility" format="jsonf" dataType="number")
  property(outname="facility_text" name="syslogfacility-text" format="jsonf")
  property(outname="severity" name="syslogseverity" format="jsonf" dataType="number")
  property(outname="severity_text" name="syslogseverity-text" format="jsonf")
  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="app_name" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="structured_data" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
  property(outname="inputname" name="inputname" format="jsonf")
  property(outname="fromhost_ip" name="fromhost-ip" format="jsonf")
  property(outname="received_at" name="timegenerated" dateFormat="rfc3339" format="jsonf")
  property(outname="rawmsg" name="rawmsg" format="jsonf")
}

module(load="imudp")
module(load="imtcp" maxSessions="200")

ruleset(name="vigil_received" parser=["rsyslog.rfc5424", "rsyslog.rfc3164"]) {
  action(type="omfile" file="$RECEIVED" template="vigil_jsonl" flushOnTXEnd="on")
}

input(type="imudp" address="127.0.0.1" port="$UDP_PORT" name="udp" ruleset="vigil_received")
input(type="imtcp" address="127.0.0.1" port="$TCP_PORT" name="tcp" ruleset="vigil_received")
input(type="imtcp" address="127.0.0.1" port="$TLS_PORT" name="tls" ruleset="vigil_received"
      streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon"
      gnutlsPriorityString="NORMAL")

# The default ruleset gets rsyslogd's own messages only.
action(type="omfile" file="$WORKDIR/rsyslogd.log")
CONF

if ! "$RSYSLOGD" -N1 -f "$WORKDIR/rsyslog.conf" -M "$MODDIR" >"$WORKDIR/rsyslogd.out" 2>&1; then
  echo "error: rsyslogd -N1 rejected $WORKDIR/rsyslog.conf:" >&2
  cat "$WORKDIR/rsyslogd.out" >&2
  exit 1
fi

# ------------------------------------------------------------------ start ---
# All three standard streams are redirected so that a caller capturing this script's
# output is not held open by the server.
"$RSYSLOGD" -n -f "$WORKDIR/rsyslog.conf" -i "$PIDFILE" -M "$MODDIR" \
  </dev/null >>"$WORKDIR/rsyslogd.out" 2>&1 &
PID=$!
ready=0
cleanup() {
  if [[ $ready -ne 1 ]]; then
    log "setup failed; stopping rsyslogd (pid $PID)"
    "$HERE/stop.sh" "$WORKDIR" || true
    if kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
  fi
}
trap cleanup EXIT

# Ready when the process has bound all three ports (read from /proc/net: a probe message
# would end up in received.jsonl).
if ! "$HOST_PYTHON" - "$PID" "$UDP_PORT" "$TCP_PORT" "$TLS_PORT" <<'PY'; then
import os, sys, time
pid, udp, tcp, tls = (int(a) for a in sys.argv[1:])

def bound(table, port, state):
    try:
        with open(table) as f:
            next(f)
            for line in f:
                local, st = line.split()[1], line.split()[3]
                if int(local.split(":")[1], 16) == port and st == state:
                    return True
    except OSError:
        pass
    return False

deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("error: rsyslogd exited during startup")
    if (bound("/proc/net/udp", udp, "07") and bound("/proc/net/tcp", tcp, "0A")
            and bound("/proc/net/tcp", tls, "0A")):
        sys.exit(0)
    time.sleep(0.1)
sys.exit("error: rsyslogd did not listen on all three ports within 20 s")
PY
  echo "---- $WORKDIR/rsyslogd.out ----" >&2
  tail -n 40 "$WORKDIR/rsyslogd.out" >&2 || true
  echo "---- $WORKDIR/rsyslogd.log ----" >&2
  tail -n 40 "$WORKDIR/rsyslogd.log" >&2 2>/dev/null || true
  exit 1
fi

{
  echo "SYSLOG_HOST=127.0.0.1"
  echo "SYSLOG_UDP_PORT=$UDP_PORT"
  echo "SYSLOG_TCP_PORT=$TCP_PORT"
  echo "SYSLOG_TLS_PORT=$TLS_PORT"
  echo "SYSLOG_CA=$TLS/ca.pem"
  echo "SYSLOG_TLS_NAME=$TLS_NAME"
  echo "SYSLOG_RECEIVED=$RECEIVED"
  echo "SYSLOG_PID=$PID"
  echo "SYSLOG_VERSION=$VERSION"
  echo "SYSLOG_LOG=$WORKDIR/rsyslogd.log"
} >"$WORKDIR/env.tmp"
mv "$WORKDIR/env.tmp" "$WORKDIR/env"
ready=1
log "rsyslogd $VERSION (pid $PID) listening on 127.0.0.1: udp $UDP_PORT, tcp $TCP_PORT," \
    "tls $TLS_PORT after $((SECONDS - t0)) s"
echo "rsyslog ready at 127.0.0.1 (udp $UDP_PORT, tcp $TCP_PORT, tls $TLS_PORT)"
