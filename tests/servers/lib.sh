# Shared by the test servers' start.sh and stop.sh scripts.
# shellcheck shell=bash

# make_test_ca DIR LABEL NAME: a CA made for this run (DIR/ca.pem) and a server
# certificate it signs for NAME and 127.0.0.1 (DIR/server.pem, DIR/server.key).
make_test_ca() {
  local dir=$1 label=$2 name=$3
  mkdir -p "$dir"
  cat >"$dir/ca.cnf" <<CNF
[req]
distinguished_name = dn
x509_extensions = v3_ca
prompt = no
[dn]
CN = Vigil test CA ($label)
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF
  cat >"$dir/server.ext" <<CNF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:$name, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
CNF
  (
    cd "$dir"
    openssl req -x509 -config ca.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout ca.key -out ca.pem -days 30 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout server.key -subj "/CN=$name" -out server.csr 2>/dev/null
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
      -days 30 -extfile server.ext -out server.pem 2>/dev/null
    rm -f server.csr
  ) || { echo "error: making the test certificates with openssl failed" >&2; exit 1; }
}

# stop_ours LABEL PID MARKER: SIGTERM to PID if it is still the process whose command
# line holds MARKER (pids get reused), up to 10 s for a clean shutdown, then SIGKILL.
stop_ours() {
  local label=$1 pid=$2 marker=$3
  is_ours() {
    [[ $1 =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null &&
      grep -qa -- "$marker" "/proc/$1/cmdline" 2>/dev/null
  }
  is_ours "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    is_ours "$pid" || break
    sleep 0.1
  done
  if is_ours "$pid"; then
    echo "[$label] pid $pid ignored SIGTERM for 10 s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  echo "[$label] stopped (pid $pid)" >&2
}
