#!/usr/bin/env bash
# `vigil sessions --json` over N configured tenants of 100 sessions each, their secrets in
# the keychain, one demo server behind all of them. Run inside tests/e2e/headless.sh (a
# private keychain and HOME). usage: bench_cli_tenants.sh VIGIL [N] [RUNS]
set -euo pipefail
vigil=$1; n=${2:-1000}; runs=${3:-3}
port=18181
"$vigil" demo serve --addr "127.0.0.1:$port" --sessions 100 --tick 0 --token bench-token \
  >/dev/null 2>&1 &
demo=$!
# Cleanup on exit: the demo may already have ended, which is not an error here.
trap 'kill "$demo" 2>/dev/null || true' EXIT
up() { curl -fsS -o /dev/null -H "Authorization: Bearer bench-token" "http://127.0.0.1:$port/v1/info"; }
for _ in $(seq 50); do up 2>/dev/null && break; sleep 0.1; done
up || { echo "bench_cli_tenants: the demo server did not answer on port $port" >&2; exit 1; }
for i in $(seq 1 "$n"); do
  printf bench-token | "$vigil" tenant add "t$i" --kind vigil --url "http://127.0.0.1:$port" \
    --secret-stdin >/dev/null
done
for _ in $(seq 1 "$runs"); do
  /usr/bin/time -f "%e s, %M KiB" "$vigil" sessions --json 2>&1 >/dev/null | tail -n 1
done | sort -n | awk -v n="$n" '{ t[NR] = $1; m[NR] = $3 } END {
  printf "vigil sessions over %d tenants: median %.2f s (%.2f–%.2f), peak %.0f MiB\n", n,
    t[int((NR + 1) / 2)], t[1], t[NR], m[int((NR + 1) / 2)] / 1024 }'
